#!/usr/bin/env bash
# The head-profiling benchmark on the GPU machine, in one device call: `attnscope-cli
# profile --device cuda` over the full needle grid (10 lengths up to 32K x 10 depths,
# every metric) on the Llama-3-8B-shaped random checkpoint, beside Retrieval_Head's
# algorithm on transformers' eager attention (bench/retrieval_head_eager.py) on a subset
# of the same grid; a table per length: ours s/prompt, theirs s/prompt, speed-up.
#
#   device run, carry [".deps", ".cache/tokenizers/llama3"]:  bash bench/profile_gpu_bench.sh
#
# Stages, each time-boxed so that all ends DEADLINE_S (575) seconds after the start:
#   build        attnscope-cli in build-gpu (gpu_bench.sh's options: each script reuses
#                the other's build while the machine is warm)
#   checkpoint   bench/make_random_checkpoint.py --shape llama3-8b into /tmp (16 GB; kept
#                while warm), with the Llama 3 tokenizer.json copied in (it has none)
#   theirs       retrieval_head_eager.py on THEIRS_LENGTHS x THEIRS_DEPTHS (first needle)
#   theirs eager the same with eager attention in the prefill too (--prefill eager) on
#                THEIRS_EAGER_LENGTHS x THEIRS_EAGER_DEPTHS, up to where it runs out of memory
#   ours subset  the profile on the same subset, so that the table has both sides even
#                when the full grid cannot finish
#   ours grid    the profile on LENGTHS x DEPTHS with whatever time is left; stopped by
#                SIGINT at the limit (the run is marked interrupted and keeps its prompts)
# A cold machine spends most of a call building and writing the checkpoint: run it again
# while warm to give the grid the whole call (the table says which lengths completed).
# Files back under $OUT: build.log, checkpoint.log, theirs.log, theirs_eager.log, ours.log (progress and
# the profile's summaries), profile.db (the store: every prompt with its timings; read it
# with runs show or sqlite3), table.json.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/profile_bench_out}
sys=/tmp/sys
build="build-gpu"
ckpt=/tmp/attnscope-bench/llama3-8b
tokenizer=.cache/tokenizers/llama3/tokenizer.json
deadline=${DEADLINE_S:-575}
# Retrieval_Head's grid shape: lengths evenly spaced up to 32K (round(32768 i / 10)), depths 0-100%.
LENGTHS=${LENGTHS:-3277,6554,9830,13107,16384,19661,22938,26214,29491,32768}
DEPTHS=${DEPTHS:-0,11,22,33,44,56,67,78,89,100}
THEIRS_LENGTHS=${THEIRS_LENGTHS:-3277,16384,32768}
THEIRS_DEPTHS=${THEIRS_DEPTHS:-0,56,100}
THEIRS_EAGER_LENGTHS=${THEIRS_EAGER_LENGTHS:-3277,9830,13107,16384,32768}
THEIRS_EAGER_DEPTHS=${THEIRS_EAGER_DEPTHS:-56}
STREAMING_LENGTH=${STREAMING_LENGTH:-1024}  # the probe: 1025 forwards of this many tokens
mkdir -p "$out"
summary=()

limit() {
  local left=$((deadline - SECONDS))
  echo $(($1 < left ? $1 : left))
}

# step NAME SECONDS LOG COMMAND...: runs COMMAND with a time limit (SIGINT first, so that
# the profile stops cleanly; SIGKILL 20 s later), appending to LOG.
step() {
  local name=$1 seconds=$2 log=$3 start=$SECONDS result
  shift 3
  if ((seconds <= 10)); then
    summary+=("$(printf '%-22s %-26s' "$name" "skipped (no time)")")
    return 1
  fi
  echo "== $name" >>"$log"
  timeout -s INT -k 20 "$seconds" "$@" >>"$log" 2>&1
  local rc=$?
  case $rc in
    0) result=ok ;;
    124 | 130) result="stopped at ${seconds}s (kept)" ;;
    *) result="FAILED (rc $rc)" ;;
  esac
  summary+=("$(printf '%-22s %-26s %4ds' "$name" "$result" $((SECONDS - start)))")
  return $rc
}

finish() {
  echo
  echo "== profile_gpu_bench summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1))"
  printf '%s\n' "${summary[@]}"
  exit "$1"
}

if [[ ! -f $tokenizer ]]; then
  echo "profile_gpu_bench.sh: $tokenizer is missing: carry .cache/tokenizers/llama3" >&2
  exit 2
fi
source scripts/gpu_sysroot.sh
unpack_gpu_sysroot "$sys" profile_gpu_bench.sh || exit 2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1
  python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" 2>&1
  df -h /tmp | tail -1
} >"$out/build.log"

step configure "$(limit 120)" "$out/build.log" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DATTNSCOPE_SYSROOT_PREFIX="$sys" -DATTNSCOPE_GUI=OFF -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF
if ! step build "$(limit 330)" "$out/build.log" ninja -C "$build" attnscope-cli; then
  tail -30 "$out/build.log"
  finish 1
fi
cli="$build/app/attnscope-cli"

if ! step checkpoint "$(limit 240)" "$out/checkpoint.log" python3 bench/make_random_checkpoint.py \
  --shape llama3-8b --out "$ckpt"; then
  tail -20 "$out/checkpoint.log"
  finish 1
fi
cp "$tokenizer" "$ckpt/tokenizer.json"

prompts=sample_data/prompts
theirs=(python3 bench/retrieval_head_eager.py --model "$ckpt" --tokenizer "$tokenizer"
  --needles "$prompts/needles.jsonl" --haystack "$prompts/haystack.txt" --needle-count 1)
step theirs "$(limit 150)" "$out/theirs.log" "${theirs[@]}" --lengths "$THEIRS_LENGTHS" --depths "$THEIRS_DEPTHS"
# The issue's wording of the baseline: eager attention in the prefill too (n x n scores per
# layer), up to the length where it runs out of memory; one depth a length.
step "theirs eager" "$(limit 120)" "$out/theirs_eager.log" "${theirs[@]}" --prefill eager \
  --lengths "$THEIRS_EAGER_LENGTHS" --depths "$THEIRS_EAGER_DEPTHS"

# ours: Retrieval_Head's prompt template and needle, one store for both runs. The subset
# computes every per-prompt metric (the per-run ones, the streaming probe and the
# causality check, only in the grid run), so its seconds per prompt are the grid's.
profile=("$cli" profile --device cuda --model "$ckpt" --task needle --template retrieval-head
  --needles "$prompts/needles.jsonl" --haystack "$prompts/haystack.txt" --needle-count 1 --db "$out/profile.db")
per_prompt=sink_mass,local_mass,entropy,hidden_sinks,pattern,density,retrieval_score,retrieval_reasoning_score
step "ours subset" "$(limit 150)" "$out/ours.log" "${profile[@]}" --lengths "$THEIRS_LENGTHS" \
  --depths "$THEIRS_DEPTHS" --metrics "$per_prompt"
# 25 s kept for the SIGINT grace and the table.
step "ours grid" "$(($(limit 600) - 25))" "$out/ours.log" "${profile[@]}" --lengths "$LENGTHS" --depths "$DEPTHS" \
  --metrics all --streaming-length "$STREAMING_LENGTH"

echo
python3 bench/profile_bench_table.py --db "$out/profile.db" --theirs-log "$out/theirs.log" \
  --theirs-eager-log "$out/theirs_eager.log" --json "$out/table.json" \
  2>&1 | tee -a "$out/ours.log"
failed=0
for line in "${summary[@]}"; do
  case $line in *FAILED*) failed=1 ;; esac
done
finish $failed
