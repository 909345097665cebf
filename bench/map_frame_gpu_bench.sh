#!/usr/bin/env bash
# bench/map_frame_bench on the GPU machine's NVIDIA OpenGL: Xvfb as the X server (its GLX
# extension backed by Mesa's software provider, as the device README describes) and the
# client's GLX through NVIDIA's vendor library, then the same on Mesa's llvmpipe for
# comparison. Two calls in a row (bench/pack_map_bench_runtime.sh says why): the first
# carries .gl-mesa/ and installs Mesa's provider, the second carries .gl/ and runs.
#
#   device run, carry [".gl-mesa"]:  bash bench/map_frame_gpu_bench.sh
#   device run, carry [".gl"]:       bash bench/map_frame_gpu_bench.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=/tmp/map_bench
mkdir -p "$root/mesa"
if [[ -f .gl-mesa/mesa.tar.xz ]]; then
  tar -C "$root/mesa" -xJf .gl-mesa/mesa.tar.xz || exit 1
  echo "Mesa's software GLX provider is in $root/mesa: now the call that carries .gl"
fi
[[ -f .gl/map_bench_runtime.tar.xz ]] || exit 0
[[ -f "$root/mesa/swrast_dri.so" ]] || { echo "no $root/mesa/swrast_dri.so: run the call that carries .gl-mesa first (the machine went back between the calls?)" >&2; exit 2; }
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
for archive in .gl/*.tar.xz; do tar -C "$root" -xJf "$archive" || exit 1; done
# Xvfb finds its software GLX provider and xkbcomp at their Debian paths.
mkdir -p /usr/lib/x86_64-linux-gnu/dri
cp "$root/mesa/swrast_dri.so" /usr/lib/x86_64-linux-gnu/dri/
[[ -x /usr/bin/xkbcomp ]] || cp "$root/bin/xkbcomp" /usr/bin/
export LD_LIBRARY_PATH="$root/lib:$root/mesa/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export QT_PLUGIN_PATH="$root/plugins" QT_QPA_PLATFORM=xcb QT_XCB_GL_INTEGRATION=xcb_glx
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
ls /usr/local/nvidia/lib64 2>/dev/null | grep -i glx | head -3
ldconfig -p | grep -i -E "GLX_nvidia|libopenblas" | head -3

"$root/bin/Xvfb" :77 -screen 0 2560x1600x24 -xkbdir "$root/xkb" -nolisten tcp >/tmp/xvfb.log 2>&1 &
xvfb=$!
sleep 3
export DISPLAY=:77
status=0
for vendor in nvidia mesa; do
  for size in 1200x900 2400x1400; do
    echo "== GLX vendor $vendor, $size"
    __GLX_VENDOR_LIBRARY_NAME=$vendor timeout 120 "$root/bin/map_frame_bench" --size "$size" 2>&1 | grep -v XDG_RUNTIME || status=1
  done
done
kill "$xvfb" 2>/dev/null
grep -i -E "glx|error|fail" /tmp/xvfb.log | head -10
exit $status
