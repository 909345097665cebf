#!/usr/bin/env bash
# The second CI build: every test (unit, CLI, store, fuzz seed replays) under
# AddressSanitizer + UndefinedBehaviorSanitizer, built into build-asan/ with clang, asserts
# on (no -DNDEBUG). Any report fails the test that caused it (-fno-sanitize-recover:
# undefined behaviour aborts; leaks fail at exit). No GUI, CUDA or benchmarks. The same
# tree holds the libFuzzer targets (scripts/fuzz.sh --build-dir build-asan), so CI builds
# the engine once for both (docs/hardening.md).
#
#   bash scripts/sanitize.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
source scripts/clang_sanitizer_tree.sh
install_clang_packages
configure_clang_sanitizer_tree "$build"
cmake --build "$build" -j "$(nproc)"
cd "$build"
# halt_on_error / abort_on_error: a report ends the process with a failure ctest sees.
export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --output-on-failure -j "$(nproc)" --timeout 1800
