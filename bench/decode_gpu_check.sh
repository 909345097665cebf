#!/usr/bin/env bash
# The split-KV decode path (kernels/cuda/split_decode*) on the GPU machine in one call:
# builds test_gpu and decode_attention_bench, then runs the parts named, in this order
# (all when none is), each cut short rather than run past the call's 600 s:
#   tests     the [decode] tests (forward and capture against the references)
#   bench     one decode step beside PyTorch SDPA (bench/decode_vs_sdpa.py; 1 row), then
#             the bench alone at 16 rows and at head dim 64 without GQA
#   profile   Nsight Compute: each kernel's time, DRAM throughput, grid and occupancy at 4K
#             and 128K keys (decode_attention_bench, one rep)
#   sanitize  compute-sanitizer memcheck and racecheck on one forward and one capture case
#   suite     every [gpu] test as the backend runs them (decode steps on the split path),
#             then the [attention] ones with ATTNSCOPE_DECODE_KERNEL=rows
#
#   device run, carry [".deps"]:  bash bench/decode_gpu_check.sh [tests] [bench] [profile] [sanitize] [suite]
#
# The build goes to build-gpu with gpu_check.sh's options (a machine still warm reuses it).
# Logs and JSON under $OUT; a summary last.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/decode_gpu_check}
build=build-gpu
deadline=585  # seconds after start by which the last step must end
mkdir -p "$out"
parts=" ${*:-tests bench profile sanitize suite} "
summary=()

# step NAME SECONDS LOG COMMAND...: runs COMMAND with a time limit (cut to the deadline),
# appending to LOG.
step() {
  local name=$1 seconds=$2 log=$3 start=$SECONDS rc left=$((deadline - SECONDS))
  shift 3
  ((seconds > left)) && seconds=$left
  if ((seconds < 15)); then
    summary+=("$(printf '%-36s skipped (no time)' "$name")")
    return 1
  fi
  echo "== $name" | tee -a "$log"
  timeout "$seconds" "$@" >>"$log" 2>&1
  rc=$?
  summary+=("$(printf '%-36s rc %-4s %4ds' "$name" "$rc" $((SECONDS - start)))")
  return $rc
}

source scripts/gpu_sysroot.sh
unpack_gpu_sysroot /tmp/sys decode_gpu_check.sh || exit 2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$out/build.log" 2>&1
step configure 120 "$out/build.log" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DATTNSCOPE_SYSROOT_PREFIX=/tmp/sys -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF
step build 360 "$out/build.log" ninja -C "$build" -j16 test_gpu decode_attention_bench || {
  grep -E "error|Error" "$out/build.log" | head -30
  printf '%s\n' "${summary[@]}"
  exit 1
}
t=$build/tests/gpu/test_gpu
bench=$build/bench/decode_attention_bench

if [[ $parts == *" tests "* ]]; then
  step "[decode] tests" 200 "$out/decode_tests.log" "$t" "[decode]" --durations yes
  grep -E -B3 -A12 "FAILED|failed" "$out/decode_tests.log" | head -60
  grep -E "^[0-9.]+ s: " "$out/decode_tests.log" | sort -rn | head -5
  tail -3 "$out/decode_tests.log"
fi
if [[ $parts == *" bench "* ]]; then
  step "bench 1 row vs SDPA" 200 "$out/bench.log" env PYTHONUNBUFFERED=1 python3 bench/decode_vs_sdpa.py \
    --bench "$bench" --json "$out/decode_vs_sdpa.json"
  step "bench 16 rows" 100 "$out/bench.log" "$bench" --rows 16 --lengths 4096,32768,131072
  step "bench d64 32/32" 60 "$out/bench.log" "$bench" --heads 32 --kv-heads 32 --dim 64 --lengths 4096,32768
fi
if [[ $parts == *" profile "* ]]; then
  for keys in 4096 131072; do
    step "ncu $keys keys" 120 "$out/profile.log" ncu -k "regex:split_decode|flash_forward|attention_capture" \
      --metrics gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,launch__grid_size,sm__warps_active.avg.pct_of_peak_sustained_active,lts__t_sectors_op_red.sum \
      --print-summary per-kernel "$bench" --lengths $keys --reps 1
  done
  grep -E "split_decode|flash_forward|attention_capture|gpu__time|dram__|grid_size|warps_active|op_red|Invocations" \
    "$out/profile.log" | sed -E 's/ +/ /g' | head -80
fi
if [[ $parts == *" sanitize "* ]]; then
  step "memcheck split forward" 90 "$out/sanitize.log" compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$t" "Split-KV decode forward writes only the heads of its range"
  step "memcheck split capture" 120 "$out/sanitize.log" compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$t" "Split-KV decode capture gives the same row results on every run"
  step "racecheck split capture" 120 "$out/sanitize.log" compute-sanitizer --tool racecheck --error-exitcode 3 \
    "$t" "Split-KV decode capture gives the same row results on every run"
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY|Invalid|hazard" "$out/sanitize.log" | head -10
fi
if [[ $parts == *" suite "* ]]; then
  step "[gpu] (split for decode)" 280 "$out/gpu_all.log" "$t" "[gpu]"
  grep -E -B3 -A12 "FAILED" "$out/gpu_all.log" | head -40
  tail -3 "$out/gpu_all.log"
  export ATTNSCOPE_DECODE_KERNEL=rows
  step "[gpu][attention] (rows)" 200 "$out/gpu_rows.log" "$t" "[gpu][attention]"
  unset ATTNSCOPE_DECODE_KERNEL
  tail -3 "$out/gpu_rows.log"
fi
[[ -f $out/bench.log ]] && grep -v "^==" "$out/bench.log" | tail -40
printf '%s\n' "${summary[@]}"
