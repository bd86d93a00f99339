#!/usr/bin/env bash
# Runs ON a lent GPU machine (the device tool), from the repository root: resumes the style
# generator from the travelling checkpoint (.device/style-face.pt, made by prepare.sh) on CUDA for
# MINUTES, then leaves the new checkpoint and a sample grid in $OUT. Files back from $OUT are at
# most 16 MiB each, so the critic/optimiser file comes back in 15 MB parts (restore.sh joins them).
# DEVICE=cpu runs the same steps on this machine's CPU (a rehearsal: test/integration/style-tools
# does it), with OUT a folder of your choice.
set -euo pipefail
MINUTES=${MINUTES:-9}
BATCH=${BATCH:-64}
DEVICE=${DEVICE:-cuda}
MAX_STEPS=${MAX_STEPS:-0}
PY=${PYTHON:-python3}
# What prepare.sh packed (the device tool carries it: `carry: [".device"]`).
PACKED=${PACKED:-.device}
: "${OUT:?OUT must name the folder the results go to (the device tool sets it)}"
export PYTHONUNBUFFERED=1
work=$(mktemp -d)
"$PY" models/tools/device_data.py unpack --packed "$PACKED/utk64.npz" --out "$work/data"
mkdir -p "$work/ck"
cp "$PACKED/style-face.pt" "$PACKED/style-face.train.pt" "$PACKED/style-face.holdout.json" "$work/ck/"
status=0
"$PY" models/tools/train_style.py --data "$work/data" --out "$work/run" --checkpoint "$work/ck/style-face.pt" --resume \
  --device "$DEVICE" --minutes "$MINUTES" --batch "$BATCH" --max-steps "$MAX_STEPS" --threads 8 \
  --sample-minutes 2 --checkpoint-minutes 2 2>&1 | grep -v '^train \[' || status=$?
# Whatever happened, bring back the last checkpoint it wrote (the trainer saves on SIGTERM too).
cp "$work/ck/style-face.pt" "$work/ck/style-face.holdout.json" "$OUT/"
split -b 15000000 "$work/ck/style-face.train.pt" "$OUT/style-face.train.pt.part-"
# Sample grids are named by thousands of images (00187k.png): the last by name is the newest.
latest=$(find "$work/run/samples" -name '*.png' 2>/dev/null | sort | tail -1)
if [ -n "$latest" ]; then cp "$latest" "$OUT/samples-$(basename "$latest")"; fi
rm -rf "$work"
exit "$status"
