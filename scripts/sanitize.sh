#!/usr/bin/env bash
# The second CI build: every test (unit, CLI, store, fuzz seed replays) under
# AddressSanitizer + UndefinedBehaviorSanitizer, built into build-asan/ with the system
# compiler, asserts on (no -DNDEBUG). Any report fails the test that caused it
# (-fno-sanitize-recover: undefined behaviour aborts; leaks fail at exit). No GUI, CUDA
# or benchmarks (docs/hardening.md).
#
#   bash scripts/sanitize.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
# -O1 -g1: 40% less compile time than -O2 -g (CI has 2 cores) and line numbers in reports.
# The tests' own code at -O0 (ATTNSCOPE_TEST_CODE_FLAGS; half its compile time again, each
# access still checked) and with precompiled headers; the engine they test stays at -O1.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DATTNSCOPE_SANITIZE=address,undefined -DATTNSCOPE_WERROR=ON \
  -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=OFF -DATTNSCOPE_BUILD_BENCHMARKS=OFF \
  -DATTNSCOPE_TEST_CODE_FLAGS=-O0 -DATTNSCOPE_PCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
# halt_on_error / abort_on_error: a report ends the process with a failure ctest sees.
export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --output-on-failure -j "$(nproc)" --timeout 1800
