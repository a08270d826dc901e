#!/usr/bin/env bash
# The GPU recipe for a machine with JAX or PyTorch and no TensorFlow (README, "Training on a GPU without TensorFlow"):
# render the training scenes on every core, train the named tasks side by side on the one GPU (each with its
# <task>_gpu preset and its own share of GPU memory), optionally score each on held-out scenes, and (with OUT set)
# keep copying each best.keras and history.csv there while they train, so a run cut off still leaves its best.
#
#   scripts/gpu_train.sh [TASK ...]            tasks: keypoints fillnet depth classifier (default: the first three)
#   env: KERAS_BACKEND (jax), N (training scenes, 20000), SEED (their seed, 0; scenes of another seed go to gpu_train_<N>_s<SEED>), N_EVAL (held-out scenes scored there, 0 = none; 300),
#        SYNTH (key=value settings of nie synth for the training scenes, e.g. "closed_prob=0.15 no_box_prob=0.1"; their folder gets a suffix from them),
#        MINUTES (each training stops itself this many minutes after it starts, train.time_limit_min; 0 = none),
#        DEADLINE_S (instead of MINUTES: the trainings stop so that all ends about this many seconds after the start),
#        OVERRIDES (key=value for every train), OVERRIDES_<task> (for that task's only, e.g. OVERRIDES_fillnet),
#        INIT_FROM (a folder of trained models, e.g. models: each task starts from its <task>.keras there, init=, unless
#        OVERRIDES_<task> names init= itself),
#        CORNERS_MODEL (a corner model, e.g. models/keypoints.keras: its corners of the training scenes are predicted
#        first, in batches on the GPU by CORNERS_SHARDS processes side by side (4), and the fill model trains on them, data.corners_from), PRESET_SUFFIX (_gpu; _smoke for a dry run), DATA (datasets), RUNS (runs),
#        PYTHON (python3), OUT (where results go: <task>.keras without optimizer state, <task>_history.csv, log.txt), COLLECT_EVERY (45 s)
#
# Run from the repository root. Wheels in .whl/ (scripts/gpu_wheels.sh; WHEELS= another folder, empty for none) are
# installed first, into /tmp/nie_site.
set -uo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
WHEELS=${WHEELS-.whl}
if [ -n "$WHEELS" ] && ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/nie_site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/nie_site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
TASKS=${*:-keypoints fillnet depth}
N=${N:-20000}; SEED=${SEED:-0}; N_EVAL=${N_EVAL:-300}; SUFFIX=${PRESET_SUFFIX:-_gpu}; DATA=${DATA:-datasets}; MINUTES=${MINUTES:-0}
RUNS=${RUNS:-runs}; LOGS=$RUNS/gpu_logs; mkdir -p "$LOGS"
nie() { "$PY" -m scripts.nie "$@"; }
start=$(date +%s)
say() { echo "[gpu_train +$(( $(date +%s) - start )) s] $*"; }

say "backend $KERAS_BACKEND; tasks: $TASKS"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
SCENES=gpu_train_$N; [ "$SEED" = 0 ] || SCENES=${SCENES}_s$SEED
SYNTH=${SYNTH:-}; [ -z "$SYNTH" ] || SCENES=${SCENES}_$(printf '%s' "$SYNTH" | md5sum | cut -c1-6)  # other settings, other scenes
# shellcheck disable=SC2086  # SYNTH is a list of key=value words
[ -f "$DATA/$SCENES/meta.jsonl" ] || nie synth --out "$DATA/$SCENES" --n "$N" --seed "$SEED" --quiet $SYNTH || exit 1
say "training scenes ready"

collect() {  # what each run has so far into OUT: the best model without optimizer state (scripts/ship_models.py,
  # atomic), its history, the logs' ends; a run cut off by the machine's time limit still leaves its best
  [ -n "${OUT:-}" ] || return 0
  mkdir -p "$OUT"
  local changed=()
  for task in $TASKS; do
    run=$RUNS/$task/gpu$SUFFIX
    [ -f "$run/best.keras" ] && [ "$run/best.keras" -nt "$OUT/$task.keras" ] && changed+=(--run "$task=$run/best.keras")
    [ -f "$run/history.csv" ] && cp "$run/history.csv" "$OUT/${task}_history.csv.part" && mv "$OUT/${task}_history.csv.part" "$OUT/${task}_history.csv"
  done
  [ ${#changed[@]} = 0 ] || JAX_PLATFORMS=cpu CUDA_VISIBLE_DEVICES= "$PY" -m scripts.ship_models --out "$OUT" "${changed[@]}" >>"$LOGS/collect.log" 2>&1 || true
  for task in $TASKS; do [ -f "$LOGS/$task.log" ] && { echo "=== $task"; tail -n 60 "$LOGS/$task.log"; }; done > "$OUT/log.txt.part" \
    && mv "$OUT/log.txt.part" "$OUT/log.txt"
}

minutes_left() {  # what is left of DEADLINE_S, less a minute for the last epoch, saving, collecting (else MINUTES)
  if [ -n "${DEADLINE_S:-}" ]; then
    "$PY" -c "print(round(max(0.5, ($DEADLINE_S - $(( $(date +%s) - start )) - 60) / 60), 2))"
  else
    echo "$MINUTES"
  fi
}
[ -n "${DEADLINE_S:-}" ] && say "trainings stop after $(minutes_left) min (deadline $DEADLINE_S s)"
if [ -n "${CORNERS_MODEL:-}" ] && [[ " $TASKS " == *" fillnet "* ]]; then  # fillnet starts last: it waits for the corners
  TASKS="$(for t in $TASKS; do [ "$t" = fillnet ] || printf '%s ' "$t"; done)fillnet"
fi
predict_corners() {  # OUT_DIR MEMORY_SHARE: CORNERS_SHARDS `nie predict keypoints` side by side, each on every n-th photo
  # (linked into a folder of its own), then their VIA files as one, OUT_DIR/predictions_via.json (written last, whole).
  # One process reads only about 100 photos/s on the GPU machine, its Python and the model's calls taking turns (the
  # third run: 30,000 photos in 278 s), so several share the GPU.
  local out=$1 n=${CORNERS_SHARDS:-4} k rc=0 shard_pids=() frac
  rm -rf "$out/shards"
  n=$("$PY" -c 'import os, sys
src, out = os.path.abspath(sys.argv[1]), sys.argv[2]
names = sorted(os.listdir(src))
n = max(1, min(int(sys.argv[3]), len(names)))
for k in range(n):
    os.makedirs(os.path.join(out, "shards", str(k), "images"))
for i, name in enumerate(names):
    os.symlink(os.path.join(src, name), os.path.join(out, "shards", str(i % n), "images", name))
print(n)' "$DATA/$SCENES/images" "$out" "$n") || return 1
  frac=$("$PY" -c "print(round($2 / $n, 3))")
  for ((k = 0; k < n; k++)); do
    XLA_PYTHON_CLIENT_MEM_FRACTION=$frac nie predict keypoints --model "$CORNERS_MODEL" --input "$out/shards/$k/images" \
      --out "$out/shards/$k" results.pictures=false >"$LOGS/corners_$k.log" 2>&1 &
    shard_pids+=($!)
  done
  for pid in "${shard_pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc = 0 ] || return 1
  "$PY" -c 'import sys
from data.via import read_via, write_via
images = [image for path in sys.argv[2:] for image in read_via(path)]
write_via(sys.argv[1], images)
print(f"the corners of {len(images)} photos from {len(sys.argv) - 2} shards -> {sys.argv[1]}")' "$out/predictions_via.json" "$out"/shards/*/predictions_via.json
}
n_tasks=$(wc -w <<<"$TASKS")
share=$("$PY" -c "print(round(0.9 / $n_tasks, 2))")
pids=()
for task in $TASKS; do
  extra=()
  per_task=OVERRIDES_$task
  # INIT_FROM, unless the task's own overrides name init= (OVERRIDES_classifier=init= starts that one afresh)
  [ -n "${INIT_FROM:-}" ] && [ -f "$INIT_FROM/$task.keras" ] && [[ " ${!per_task:-} " != *" init="* ]] && extra+=("init=$INIT_FROM/$task.keras")
  if [ "$task" = fillnet ] && [ -n "${CORNERS_MODEL:-}" ]; then  # the corners nie fill will meet, before the training starts
    corners=$RUNS/corners/$SCENES
    [ -f "$corners/predictions_via.json" ] || predict_corners "$corners" "$share" || { say "corner prediction failed (see $LOGS/corners_*.log)"; status_corners=1; }
    [ -f "$corners/predictions_via.json" ] && extra+=("data.corners_from=$corners/predictions_via.json") && say "fillnet trains on $CORNERS_MODEL's corners"
  fi
  # shellcheck disable=SC2086
  XLA_PYTHON_CLIENT_MEM_FRACTION=$share nie train "$task" --data "$DATA/$SCENES" --preset "$task$SUFFIX" \
    --run "$RUNS/$task/gpu$SUFFIX" train.time_limit_min="$(minutes_left)" ${OVERRIDES:-} ${!per_task:-} "${extra[@]}" >"$LOGS/$task.log" 2>&1 &
  pids+=($!)
  say "$task training started (pid $!, GPU memory share $share${extra:+; ${extra[*]}})"
done
while :; do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  collect
  [ $alive = 1 ] || break  # the collect just above ran after the last training ended: OUT is complete
  sleep ${COLLECT_EVERY:-45}
done
status=${status_corners:-0}
read -r -a tasks <<<"$TASKS"
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"; rc=$?
  say "${tasks[$i]} training ended with status $rc"; tail -n 3 "$LOGS/${tasks[$i]}.log"
  [ $rc = 0 ] || status=1
done

if [ "$N_EVAL" -gt 0 ]; then
  [ -f "$DATA/gpu_eval_$N_EVAL/meta.jsonl" ] || nie synth --out "$DATA/gpu_eval_$N_EVAL" --n "$N_EVAL" --seed 1000 --quiet
  for task in $TASKS; do
    run=$RUNS/$task/gpu$SUFFIX
    [ -f "$run/best.keras" ] || continue
    nie evaluate "$task" --model "$run" --data "$DATA/gpu_eval_$N_EVAL" --out "$run/eval" && say "$task scored: $run/eval/metrics.json"
  done
fi
say "done on backend $KERAS_BACKEND"
exit $status
