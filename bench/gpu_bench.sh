#!/usr/bin/env bash
# The model-level GPU check and benchmark in one call on the GPU machine: builds the two
# programs with CUDA, then (time-boxed) the oracle against transformers on small random
# models of every architecture, the Llama-3-8B-shaped random checkpoint, the oracle on it,
# and prefill beside transformers (sdpa, and eager with output_attentions) at 4K-128K.
# Logs and JSON under $OUT; the tables and a summary last (the device reply shows the tail).
#
#   device run, carry [".deps"]:  bash bench/gpu_bench.sh [oracle] [prefill]
#
# With no argument both parts run; naming one runs only it (a second call on a machine
# still warm finds the build and the checkpoints in place and spends its time measuring).
# .deps/ holds the Debian .debs of scripts/gpu_check.sh (unpacked the same way). The
# build goes to build-gpu with gpu_check.sh's options, so either script reuses the
# other's build on a machine that is still warm; only prefill_bench and oracle_run are
# built. The checkpoints go to /tmp (the 8B one is 16 GB; kept while the machine is warm).
# Files back: build.log, oracle.log, prefill.log, oracle_small.json, oracle_8b.json,
# prefill.json.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/gpu_bench_out}
sys=/tmp/sys
build="build-gpu"
ckpt8b=/tmp/attnscope-bench/llama3-8b
deadline=575  # seconds after start by which the last stage must end (one call: 600 s)
mkdir -p "$out"
summary=()
parts=" ${*:-oracle prefill} "

# limit SECONDS: the smaller of SECONDS and what is left before the deadline.
limit() {
  local left=$((deadline - SECONDS))
  echo $(($1 < left ? $1 : left))
}

# step NAME SECONDS LOG COMMAND...: runs COMMAND with a time limit, appending to LOG.
step() {
  local name=$1 seconds=$2 log=$3 start=$SECONDS result
  shift 3
  if ((seconds <= 10)); then
    summary+=("$(printf '%-28s %-16s' "$name" "skipped (no time)")")
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
  summary+=("$(printf '%-28s %-16s %4ds' "$name" "$result" $((SECONDS - start)))")
  return $rc
}

# tables LOG: the tables the scripts printed: each from its "== " title to the next blank
# line, leaving out this script's own stage titles.
tables() {
  awk '/^== / {p = !/^== (configure|build|oracle:|8B checkpoint|prefill vs)/} p {print} /^$/ {p = 0}' "$1"
}

source scripts/gpu_sysroot.sh
unpack_gpu_sysroot "$sys" gpu_bench.sh || exit 2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # no network there: never wait for one

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1
  nvcc --version | tail -2
  python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" 2>&1
  df -h /tmp | tail -1
} >"$out/build.log"

step configure "$(limit 120)" "$out/build.log" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DATTNSCOPE_SYSROOT_PREFIX="$sys" -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF
step build "$(limit 300)" "$out/build.log" ninja -C "$build" prefill_bench oracle_run || {
  tail -30 "$out/build.log"
  printf '%s\n' "${summary[@]}"
  exit 1
}

oracle="$build/bench/oracle_run"
if [[ $parts == *" oracle "* ]]; then
  t=$(limit 150)
  step "oracle: small models" "$t" "$out/oracle.log" python3 bench/oracle_vs_transformers.py --oracle "$oracle" \
    --shapes llama,mistral,qwen2,qwen3,gpt2 --work /tmp/attnscope-oracle --json "$out/oracle_small.json" \
    --deadline-s $((t - 10))
fi
step "8B checkpoint" "$(limit 200)" "$out/prefill.log" python3 bench/make_random_checkpoint.py \
  --shape llama3-8b --out "$ckpt8b"
if [[ $parts == *" oracle "* ]]; then
  t=$(limit 130)
  step "oracle: llama3-8b" "$t" "$out/oracle.log" python3 bench/oracle_vs_transformers.py --oracle "$oracle" \
    --shapes llama3-8b --ckpt-8b "$ckpt8b" --work /tmp/attnscope-oracle --json "$out/oracle_8b.json" \
    --deadline-s $((t - 10))
fi
if [[ $parts == *" prefill "* ]]; then
  t=$(limit 600)
  step "prefill vs transformers" "$t" "$out/prefill.log" python3 bench/prefill_vs_transformers.py \
    --build "$build" --ckpt "$ckpt8b" --json "$out/prefill.json" --deadline-s $((t - 15))
fi

echo
[ -f "$out/oracle.log" ] && tables "$out/oracle.log"
[ -f "$out/prefill.log" ] && tables "$out/prefill.log"
echo
echo "== gpu_bench summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1))"
printf '%s\n' "${summary[@]}"
for line in "${summary[@]}"; do
  case $line in *FAILED*) exit 1 ;; esac
done
exit 0
