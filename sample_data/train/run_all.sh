#!/usr/bin/env bash
# Trains and evaluates the sample model on the GPU machine.
#   bash sample_data/train/run_all.sh OUTDIR
# writes OUTDIR/sample-llama/ (the checkpoint), OUTDIR/training_summary.json and
# OUTDIR/eval.json (eval.json is rewritten after each stage, so a run cut short keeps
# what it measured).
# Environment:
#   SMOKE=1          first a 30-step run and a --quick evaluation in $WORK/smoke (checks
#                    the pipeline before the long run; fails fast)
#   STEPS=N          number of training steps (default: train_config.json's train.steps)
#   DEADLINE_S=S     instead of STEPS: choose the steps so that everything (data, smoke,
#                    training, evaluation) ends within about S seconds of the start
#   EVAL_RESERVE_S   seconds kept for everything after training (default 190)
#   MAX_TRAIN_S      upper bound of the training time with DEADLINE_S (default 400)
#   WORK             scratch folder (default /tmp/attnscope-train)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUTDIR=${1:?usage: run_all.sh OUTDIR}
WORK=${WORK:-/tmp/attnscope-train}
export PYTHONUNBUFFERED=1
START=$(date +%s)
mkdir -p "$OUTDIR" "$WORK"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# corpus, tokenizer and tokenized data first, in a process that never touches the GPU
# (a run once hung before this stage logged anything; a hang is retried once)
for try in 1 2; do
  if timeout "${PREPARE_TIMEOUT_S:-200}" python3 "$HERE/train.py" --prepare-only --work "$WORK"; then
    break
  fi
  echo "data preparation failed or hung (try $try)"
  [ "$try" = 2 ] && exit 4
done
if [ -n "${SMOKE:-}" ]; then
  python3 "$HERE/train.py" --out "$WORK/smoke" --work "$WORK" --steps 30
  python3 "$HERE/evaluate.py" --model "$WORK/smoke/sample-llama" --out "$WORK/smoke/eval.json" --quick
  echo "smoke run passed after $(( $(date +%s) - START )) s"
fi
ARGS=()
EVAL_ARGS=()
if [ -n "${STEPS:-}" ]; then
  ARGS=(--steps "$STEPS")
elif [ -n "${DEADLINE_S:-}" ]; then
  NOW=$(date +%s)
  BUDGET=$(( DEADLINE_S - (NOW - START) - ${EVAL_RESERVE_S:-190} ))
  [ "$BUDGET" -gt 60 ] || { echo "not enough time left ($BUDGET s)"; exit 3; }
  [ "$BUDGET" -lt "${MAX_TRAIN_S:-400}" ] || BUDGET=${MAX_TRAIN_S:-400}
  echo "training time budget: $BUDGET s"
  ARGS=(--time-budget "$BUDGET")
fi
python3 "$HERE/train.py" --out "$OUTDIR" --work "$WORK" "${ARGS[@]}"
if [ -n "${DEADLINE_S:-}" ]; then
  LEFT=$(( DEADLINE_S - ($(date +%s) - START) - 15 ))
  echo "evaluation: $LEFT s left before the deadline"
  EVAL_ARGS=(--time-limit "$LEFT")
fi
python3 "$HERE/evaluate.py" --model "$OUTDIR/sample-llama" --out "$OUTDIR/eval.json" "${EVAL_ARGS[@]}"
echo "total $(( $(date +%s) - START )) s"
