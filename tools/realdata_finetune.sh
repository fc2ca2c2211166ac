#!/usr/bin/env bash
# Fine-tuning on real data, with a time split (models/README.md, "Fine-tuning on real data").
#
#   tools/realdata_finetune.sh ARGUSD OUTDIR [SPLIT_TS] [EPOCHS] [SEEDS...]
#
# Training data: recording 1 (all) + recording 2 before SPLIT_TS (default 2025-03-07T17:40:00, step 500
# of recording 2). Held-out test: recording 2 from SPLIT_TS on; the test file starts 288 steps earlier
# so the first scored window has a full encoder — `argusd evaluate` scores windows from step 288 of a
# series on, so every scored target is at or after SPLIT_TS (encoders may read pre-split inputs, never
# targets, as the trainer's validation windows do). Each training seed writes its own model folder.
set -euo pipefail
BIN=${1:?argusd binary}; OUT=${2:?output dir}
SPLIT=${3:-2025-03-07T17:40:00}; EPOCHS=${4:-10}; shift $(( $# < 4 ? $# : 4 )) || true
SEEDS=("$@"); [ ${#SEEDS[@]} -gt 0 ] || SEEDS=(42)
HERE=$(cd "$(dirname "$0")" && pwd); R=$HERE/realdata
DEFAULT=$HERE/../models/tft_model_20261123_143047
mkdir -p "$OUT"
R1=$R/procfeed_20261123_4s_as_300s.jsonl.gz; R2=$R/procfeed_20261123b_4s_as_300s.jsonl.gz
EVAL_FROM=$(python3 -c "import datetime as d;print((d.datetime.fromisoformat('$SPLIT')-d.timedelta(seconds=288*300)).isoformat())")
python3 "$HERE/slice_feed.py" "$R1" "$R2" --out "$OUT/train.jsonl" --before "$SPLIT"
python3 "$HERE/slice_feed.py" "$R2" --out "$OUT/test.jsonl" --from "$EVAL_FROM"
"$BIN" evaluate --model "$DEFAULT" --data "$OUT/test.jsonl" --stride 1 --threads 1 --quiet --json "$OUT/default.json" > /dev/null
for seed in "${SEEDS[@]}"; do
  folder=$("$BIN" train --data "$OUT/train.jsonl" --from "$DEFAULT" --epochs "$EPOCHS" --train-seed "$seed" \
           --threads 1 --out "$OUT/models" 2> "$OUT/train_$seed.log")
  tail -1 "$OUT/train_$seed.log"
  echo "$folder" > "$OUT/folder_$seed"
  "$BIN" evaluate --model "$folder" --data "$OUT/test.jsonl" --stride 1 --threads 1 --quiet --json "$OUT/finetuned_$seed.json" > /dev/null
done
echo "== default model on the held-out test"; python3 "$HERE/eval_table.py" "$OUT/default.json" --step-label
for seed in "${SEEDS[@]}"; do
  echo "== fine-tuned (train seed $seed) on the held-out test"; python3 "$HERE/eval_table.py" "$OUT/finetuned_$seed.json" --step-label
done
