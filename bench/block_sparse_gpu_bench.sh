#!/usr/bin/env bash
# The block-sparse part of the GPU machine's check in one call: builds the GPU tests and the
# bench with CUDA, runs the block-sparse tests (kernel against the double reference, GPU
# mask evaluation against the CPU's, Selected rules on the backend against the CPU backend,
# a mask plan on the sample model), a race check of one small case, the SASS counts of the
# d128 bf16 kernel, then bench/flex_attention_bench.py (ours beside FlexAttention and SDPA
# on the same block patterns at 8K and 32K, and the mask lab's re-evaluation of one layer).
# Logs and JSON under $OUT; the tables and a summary last (the device reply shows the tail).
#
#   device run, carry [".deps"]:  bash bench/block_sparse_gpu_bench.sh [tests] [bench]
#
# With no argument both parts run; naming one runs only it. .deps/ holds the Debian .debs
# of scripts/gpu_check.sh (unpacked the same way); the build goes to build-gpu with
# gpu_check.sh's options, so the scripts reuse each other's build on a machine that is
# still warm. Files back: build.log, sparse_tests.log, sparse_racecheck.log,
# sparse_sass.txt, flex_attention_bench.log, flex_attention_bench.json.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/block_sparse_out}
sys=/tmp/sys
build="build-gpu"
deadline=575  # seconds after start by which the last stage must end (one call: 600 s)
mkdir -p "$out"
summary=()
parts=" ${*:-tests bench} "

limit() {
  local left=$((deadline - SECONDS))
  echo $(($1 < left ? $1 : left))
}

# step NAME SECONDS LOG COMMAND...: runs COMMAND with a time limit, appending to LOG.
step() {
  local name=$1 seconds=$2 log=$3 start=$SECONDS result
  shift 3
  if ((seconds <= 10)); then
    summary+=("$(printf '%-30s %-16s' "$name" "skipped (no time)")")
    return 1
  fi
  echo "== $name" | tee -a "$log"
  timeout "$seconds" "$@" >>"$log" 2>&1
  local rc=$?
  case $rc in
    0) result=ok ;;
    124) result="timeout (${seconds}s)" ;;
    *) result="FAILED (rc $rc)" ;;
  esac
  summary+=("$(printf '%-30s %-16s %4ds' "$name" "$result" $((SECONDS - start)))")
  return $rc
}

source scripts/gpu_sysroot.sh
unpack_gpu_sysroot "$sys" block_sparse_gpu_bench.sh || exit 2

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1
  nvcc --version | tail -2
  python3 -c "import torch; print('torch', torch.__version__)" 2>&1
} >"$out/build.log"

step configure "$(limit 120)" "$out/build.log" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DATTNSCOPE_SYSROOT_PREFIX="$sys" -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF
step build "$(limit 330)" "$out/build.log" ninja -C "$build" test_gpu block_sparse_bench || {
  tail -30 "$out/build.log"
  printf '%s\n' "${summary[@]}"
  exit 1
}
test_gpu="$build/tests/gpu/test_gpu"

if [[ $parts == *" tests "* ]]; then
  step "sparse tests" "$(limit 240)" "$out/sparse_tests.log" "$test_gpu" "[sparse]"
  tail -4 "$out/sparse_tests.log"
  step "racecheck: one sparse case" "$(limit 120)" "$out/sparse_racecheck.log" compute-sanitizer --tool racecheck \
    --error-exitcode 3 "$test_gpu" "A set that keeps every visible entry gives the flash forward's result"
  cuobjdump -sass "$test_gpu" >"$out/sparse_sass.txt" 2>&1
  python3 - "$out/sparse_sass.txt" <<'PY'
import re, sys
for chunk in open(sys.argv[1]).read().split("Function : ")[1:]:
    name = chunk.split(None, 1)[0]
    if re.search(r"block_sparse_kernelILi128E13__nv_bfloat16", name):
        code = chunk.split("code for sm_")[0]
        print(name[:70], {op: len(re.findall(r"\b" + re.escape(op) + r"\b", code))
                          for op in ("HMMA", "LDSM", "LDGSTS", "MUFU.EX2", "LDL", "STL")})
PY
fi
if [[ $parts == *" bench "* ]]; then
  step "block-sparse vs flex and sdpa" "$(limit 400)" "$out/flex_attention_bench.log" python3 \
    bench/flex_attention_bench.py --bench "$build/bench/block_sparse_bench" --json "$out/flex_attention_bench.json"
fi

echo
[ -f "$out/flex_attention_bench.log" ] && sed -n '/^ *n density/,$p' "$out/flex_attention_bench.log"
echo
echo "== block_sparse_gpu_bench summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1))"
printf '%s\n' "${summary[@]}"
for line in "${summary[@]}"; do
  case $line in *FAILED*) exit 1 ;; esac
done
exit 0
