# Sourced by the GPU machine's scripts (gpu_check.sh and bench/*_gpu_bench.sh): that
# machine has g++, nvcc and cuBLAS but no Catch2, sqlite3, pcre2, ICU, OpenBLAS, zlib or
# nlohmann-json headers, so the Debian -dev packages travel in .deps/ and are unpacked
# into a private root (headers and link-time .so links; the runtime libraries the
# machine lacks, ICU 72, come from there too).
#
# .deps/sysroot.tar.xz (scripts/pack_gpu_deps.sh) is those packages without static
# libraries and docs: 16 MB instead of 35 MB of .debs, so that the tokenizer files fit
# beside it in the 64 MiB a device call carries. Plain .debs in .deps/ still work.

# unpack_gpu_sysroot ROOT CALLER: unpacks into ROOT and puts its libraries on the loader
# path (libicuuc.so.72 loads libicudata.so.72 through it: an executable's RUNPATH does not
# reach a library's own dependencies). Returns 2, naming CALLER, when .deps/ is empty.
unpack_gpu_sysroot() {
  local root=$1 caller=$2 deb
  mkdir -p "$root"
  if [[ -f .deps/sysroot.tar.xz ]]; then
    tar -C "$root" -xJf .deps/sysroot.tar.xz || return 1
  elif ls .deps/*.deb >/dev/null 2>&1; then
    for deb in .deps/*.deb; do dpkg -x "$deb" "$root" || return 1; done
  else
    echo "$caller: .deps/ holds neither sysroot.tar.xz nor .deb files: make it with" \
      "scripts/pack_gpu_deps.sh and carry .deps" >&2
    return 2
  fi
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}
