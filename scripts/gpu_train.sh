#!/usr/bin/env bash
# The GPU recipe for a machine with PyTorch or JAX and no TensorFlow (README, "Training on a GPU without TensorFlow"):
# render the training and held-out scenes on every core, train each named task with its <task>_gpu preset, score it
# on the held-out scenes, and (with OUT set) copy each best.keras, metrics.json and history.csv there.
#
#   scripts/gpu_train.sh [TASK ...]            tasks: keypoints depth (default: both)
#   env: KERAS_BACKEND (torch), N (training scenes, 20000), N_EVAL (300), OVERRIDES (key=value for every train),
#        PRESET_SUFFIX (_gpu; _smoke for a dry run), DATA (datasets), OUT (where results go)
#
# Run from the repository root. Wheels in .whl/ (scripts/gpu_wheels.sh) are installed first, into /tmp/nie_site.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=${KERAS_BACKEND:-torch} PYTHONUNBUFFERED=1
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/nie_site .whl/*.whl
  export PYTHONPATH=/tmp/nie_site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
TASKS=${*:-keypoints depth}
N=${N:-20000}; N_EVAL=${N_EVAL:-300}; SUFFIX=${PRESET_SUFFIX:-_gpu}; DATA=${DATA:-datasets}
nie() { python3 -m scripts.nie "$@"; }
start=$(date +%s)
[ -f "$DATA/gpu_train_$N/meta.jsonl" ] || nie synth --out "$DATA/gpu_train_$N" --n "$N" --seed 0 --quiet
[ -f "$DATA/gpu_eval_$N_EVAL/meta.jsonl" ] || nie synth --out "$DATA/gpu_eval_$N_EVAL" --n "$N_EVAL" --seed 1000 --quiet
echo "scenes ready after $(( $(date +%s) - start )) s"
for task in $TASKS; do
  run=runs/$task/gpu$SUFFIX
  t0=$(date +%s)
  # shellcheck disable=SC2086
  nie train "$task" --data "$DATA/gpu_train_$N" --preset "$task$SUFFIX" --run "$run" ${OVERRIDES:-}
  echo "$task trained in $(( $(date +%s) - t0 )) s"
  nie evaluate "$task" --model "$run" --data "$DATA/gpu_eval_$N_EVAL" --out "$run/eval"
  if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    cp "$run/best.keras" "$OUT/$task.keras"
    cp "$run/eval/metrics.json" "$OUT/${task}_metrics.json"
    cp "$run/history.csv" "$OUT/${task}_history.csv"
  fi
done
echo "done in $(( $(date +%s) - start )) s on backend $KERAS_BACKEND"
