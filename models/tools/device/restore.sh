#!/usr/bin/env bash
# On this machine, after a GPU run: puts the model files prepare.sh set aside back, and, given
# the folder the run's files came back to (the device tool's files_at), installs the new
# checkpoint (joining the critic/optimiser file's parts).
#   models/tools/device/restore.sh [FILES_AT]
# CHECKPOINTS (default models/checkpoints) is where the returned checkpoint goes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CK=${CHECKPOINTS:-models/checkpoints}
if [ -d .aside ]; then
  for path in models/checkpoints/style-face.pt models/checkpoints/style-face.train.pt models/progressive-face models/progressive-face-critic models/face-sr \
              models/default-face models/default-face-critic models/darknet-tiny; do
    if [ -e ".aside/$path" ] && [ ! -e "$path" ]; then mv ".aside/$path" "$path"; fi
  done
  rmdir -p .aside/models/checkpoints .aside/models 2>/dev/null || true
fi
if [ $# -ge 1 ]; then
  back=$1
  [ -f "$back/style-face.pt" ] || { echo "restore: $back/style-face.pt is missing: the run brought no checkpoint back" >&2; exit 1; }
  mkdir -p "$CK"
  cat "$back"/style-face.train.pt.part-* > "$CK/style-face.train.pt.new"
  cp "$back/style-face.pt" "$CK/style-face.pt.new"
  CK="$CK" /usr/bin/python3 - <<'PY'
import os
import torch
ck = os.environ["CK"]
main = torch.load(f"{ck}/style-face.pt.new", map_location="cpu")
extra = torch.load(f"{ck}/style-face.train.pt.new", map_location="cpu")
assert "G_ema" in main and "D" in extra, "the returned checkpoint is incomplete"
print(f"returned checkpoint: {main['state']['images']:,} images, {main['state']['seconds'] / 3600:.2f} h in all")
PY
  mv "$CK/style-face.train.pt.new" "$CK/style-face.train.pt"
  mv "$CK/style-face.pt.new" "$CK/style-face.pt"
fi
git status --short models/ | head
