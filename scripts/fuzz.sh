#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with AddressSanitizer + UBSan, asserts on)
# into build-fuzz/ (or into the sanitizer tests' tree: --build-dir build-asan) and runs
# each for SECONDS, --jobs of them at a time, one core each (docs/hardening.md). Seeds come
# from fuzz/seeds/<target>/; what the fuzzer learns stays in build-fuzz/corpus/<target>/;
# a finding lands in build-fuzz/findings/<target>/ and fails the script. The last lines
# are one per target: executions, corpus, result.
#
#   bash scripts/fuzz.sh [--build-dir DIR] [--jobs N] SECONDS [TARGET...]
#     SECONDS   per target (CI: 20; a hardening run: 600)
#     TARGET    safetensors config_json tokenizer_json mask_plan needle_file capture_file
#               export_readers plugin_descriptor (default: all)
#     --jobs N  targets fuzzed at once (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz jobs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) break ;;
  esac
done
seconds=${1:?usage: scripts/fuzz.sh [--build-dir DIR] [--jobs N] SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors config_json tokenizer_json mask_plan needle_file capture_file
                                     export_readers plugin_descriptor)

source scripts/clang_sanitizer_tree.sh
install_clang_packages
# A fresh tree without tests; an existing one (CI's build-asan from sanitize.sh) is reused.
configure_clang_sanitizer_tree "$build" -DATTNSCOPE_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# Inputs larger than the largest seed add little and slow every execution.
declare -A max_len=([safetensors]=65536 [config_json]=16384 [tokenizer_json]=300000 [mask_plan]=16384
                    [needle_file]=16384 [capture_file]=65536 [export_readers]=65536 [plugin_descriptor]=16384)

fuzz_one() {
  local name=$1
  local corpus=$build/corpus/$name findings=$build/findings/$name log=$build/fuzz-$name.log
  mkdir -p "$corpus" "$findings"
  # -timeout: one input taking 10 s is a finding (a hang); -rss_limit_mb: so is 2 GB.
  "$build/fuzz/fuzz_$name" "$corpus" "fuzz/seeds/$name" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="${max_len[$name]:-65536}" -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1
}

status=0
pids=() names=()
for name in "${targets[@]}"; do
  fuzz_one "$name" & pids+=($!) names+=("$name")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

printf '%-16s %14s %8s  %s\n' target executions corpus result
for name in "${names[@]}"; do
  log=$build/fuzz-$name.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(find "$build/corpus/$name" -type f | wc -l)
  if grep -q "^==[0-9]*==ERROR\|^SUMMARY: \|fuzz property violated\|deadly signal\|ERROR: libFuzzer" "$log"; then
    result="FINDING: $(ls "$build/findings/$name" | head -1) (see $log)"
  else
    result=ok
  fi
  printf '%-16s %14s %8s  %s\n' "$name" "${execs:-?}" "$corpus" "$result"
done
exit $status
