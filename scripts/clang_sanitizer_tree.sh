# Sourced by sanitize.sh and fuzz.sh: one clang build tree serves both the tests under
# AddressSanitizer + UBSan and the libFuzzer targets, so that CI compiles the engine once
# for the two (docs/hardening.md, "CI time").

# install_clang_packages: Debian 12's clang 14 with libFuzzer (libclang-rt, only
# recommended by clang) and its OpenMP, and OpenBLAS built on threads (below), where they
# are missing.
install_clang_packages() {
  local p missing=() sudo=""
  for p in clang libclang-rt-14-dev libomp-dev libopenblas0-pthread; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing ${missing[*]} (clang for the sanitizer and fuzz tree)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_clang_sanitizer_tree DIR [CMAKE_ARGS...]: configures DIR (once) with every
# object under ASan + UBSan, libFuzzer's coverage in the readers the fuzz targets drive
# (attnscope_fuzz_coverage), asserts on, no GUI, CUDA or benchmarks. -O1
# -gline-tables-only: OSS-Fuzz's flags (line numbers in reports, a sixth less compile time
# than -O2 -g on 2 cores, about as many executions a second). The tests'
# own code at -O0 (each access still checked) with precompiled headers. OpenBLAS on
# threads, not the OpenMP build the release links: that one calls GOMP_parallel, which
# clang's OpenMP runtime (libomp) answers, and then spins in sched_yield (unit.profile's
# first case took over 100 s instead of a few).
configure_clang_sanitizer_tree() {
  local build=$1
  shift
  if [ -f "$build/build.ninja" ]; then
    # A tree from before (the sanitizer build was gcc's until 2026-11-24) cannot switch
    # compilers in place.
    grep -q "^ATTNSCOPE_FUZZ:BOOL=ON" "$build/CMakeCache.txt" 2>/dev/null && return 0
    echo "$build was configured without clang and the fuzz targets (an older sanitizer build?):" \
      "remove it and run again" >&2
    return 1
  fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DATTNSCOPE_SANITIZE=address,undefined \
    -DATTNSCOPE_FUZZ=ON -DATTNSCOPE_WERROR=ON -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=OFF \
    -DATTNSCOPE_BUILD_BENCHMARKS=OFF -DATTNSCOPE_TEST_CODE_FLAGS=-O0 -DATTNSCOPE_PCH=ON \
    -Dblas_LIBRARY=/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 "$@" >/dev/null
}
