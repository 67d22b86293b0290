#!/usr/bin/env bash
# Train both stages from a pack of the training split (python -m fetalhc.training.pack), each kept
# by a rule fixed in advance: the last epoch of its cosine schedule. Stage 2 starts from the stage-1
# network just trained. Runs on any Keras backend; on a GPU machine without TensorFlow, use
# KERAS_BACKEND=jax (docs/model.md, "Training on a GPU machine").
# Usage: scripts/train_two_stages.sh PACK OUT EPOCHS_STAGE1 EPOCHS_STAGE2 [WORKERS] [MINUTES_PER_STAGE]
set -euo pipefail
pack=$1 out=$2 epochs1=$3 epochs2=$4 workers=${5:-2} minutes=${6:-600}
python="${PYTHON:-python3}"
"$python" -m fetalhc.training.train --pack "$pack" --stage 1 --keep last --epochs "$epochs1" \
  --workers "$workers" --time-budget-min "$minutes" --out "$out/s1"
"$python" -m fetalhc.training.train --pack "$pack" --stage 2 --keep last --epochs "$epochs2" \
  --workers "$workers" --time-budget-min "$minutes" --init-from "$out/s1/model.keras" --out "$out/s2"
