#!/usr/bin/env bash
# Packs what bench/map_frame_bench needs to run on the GPU machine, which has the NVIDIA
# driver but no Qt, X server or Mesa: the bench binary, the shared libraries it and Qt's
# xcb platform plugins load (except glibc, libstdc++ and the GL vendor-neutral loaders,
# which that machine's own or the .gl packages provide), Xvfb with xkbcomp and the xkb
# data, and Mesa's software GLX provider, which Xvfb's GLX extension loads (the client
# renders through NVIDIA's GLX: __GLX_VENDOR_LIBRARY_NAME=nvidia). Two git-ignored
# folders, because the working tree and one call's carry together may not pass 64 MiB:
# .gl-mesa/ (the Mesa provider and LLVM, ~25 MB) and .gl/ (the rest, with the glvnd
# loader .debs the device README names). Two device calls in a row (the machine keeps
# /tmp while it stays warm):
#
#   bash bench/pack_map_bench_runtime.sh BUILD_DIR
#   device run, carry [".gl-mesa"]:  bash bench/map_frame_gpu_bench.sh
#   device run, carry [".gl"]:       bash bench/map_frame_gpu_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir with bench/map_frame_bench}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p .gl .gl-mesa "$stage/mesa/lib" "$stage/lib" "$stage/bin" "$stage/plugins/platforms" "$stage/plugins/xcbglintegrations"
for folder in /.gl/ /.gl-mesa/; do
  grep -qx "$folder" .git/info/exclude 2>/dev/null || echo "$folder" >>.git/info/exclude
done

qt_plugins=/usr/lib/x86_64-linux-gnu/qt6/plugins
cp "$build/bench/map_frame_bench" "$stage/bin/"
cp /usr/bin/Xvfb /usr/bin/xkbcomp "$stage/bin/"
cp "$qt_plugins/platforms/libqxcb.so" "$stage/plugins/platforms/"
cp "$qt_plugins/xcbglintegrations/libqxcb-glx-integration.so" "$stage/plugins/xcbglintegrations/"
# Mesa's client-side GLX vendor library (glvnd loads it by name): the llvmpipe comparison.
cp -L /usr/lib/x86_64-linux-gnu/libGLX_mesa.so.0 "$stage/lib/"
cp /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so "$stage/mesa/"
cp -r /usr/share/X11/xkb "$stage/xkb"

# Libraries every one of those loads, but not glibc, the C++ runtime, the GL loaders or
# OpenBLAS (that machine has its own; with it the archive would pass the 64 MiB a call carries).
skip='^(linux-vdso|libc\.|libm\.|libdl\.|libpthread\.|librt\.|ld-linux|libstdc\+\+|libgcc_s|libGL\.|libGLX\.|libGLdispatch|libOpenGL|libEGL|libGLESv2|libopenblas|libgfortran|libquadmath)'
# The Mesa provider's libraries (LLVM above all) go to the Mesa archive, the rest to the other.
for f in "$stage"/bin/* "$stage"/plugins/*/*.so "$stage/lib/libGLX_mesa.so.0"; do
  ldd "$f" | awk '/=> \//{print $1, $3}'
done | sort -u >"$stage/runtime.libs"
ldd "$stage/mesa/swrast_dri.so" | awk '/=> \//{print $1, $3}' | sort -u >"$stage/mesa.libs"
copy_libs() {  # LIST DEST
  while read -r name path; do
    [[ $name =~ $skip ]] || cp -L "$path" "$2/$name"
  done <"$1"
}
copy_libs "$stage/runtime.libs" "$stage/lib"
grep -v -F -f <(awk '{print $1}' "$stage/runtime.libs") "$stage/mesa.libs" >"$stage/mesa.only" || true
copy_libs "$stage/mesa.only" "$stage/mesa/lib"
rm -f "$stage"/*.libs "$stage/mesa.only"
# The GL loaders as Debian packages (dpkg -x into / there, as the device README says).
(cd .gl && apt-get download libglvnd0 libgl1 libglx0 libopengl0 libegl1 libgles2 2>/dev/null >/dev/null)
rm -f .gl/map_bench_runtime.tar.xz .gl-mesa/mesa.tar.xz
tar -C "$stage/mesa" -cf - . | xz -T2 -6 >.gl-mesa/mesa.tar.xz
rm -rf "$stage/mesa"
tar -C "$stage" -cf - . | xz -T2 -6 >.gl/map_bench_runtime.tar.xz
du -sh .gl .gl-mesa
