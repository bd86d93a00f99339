#!/usr/bin/env bash
# On this machine, before a GPU run (models/tools/device/README.md): packs what the run needs into
# .device/ (the curated photos at 64 px as JPEGs, the style checkpoint without its optimiser
# moments) and sets the large tracked model files aside in .aside/ so that the working tree that
# travels stays under the device tool's 64 MiB. restore.sh puts them back.
set -euo pipefail
cd "$(dirname "$0")/../../.."
DATA=${DATA:-data/utk128}
mkdir -p .device .aside
[ -f .device/utk64.npz ] || /usr/bin/python3 models/tools/device_data.py pack --data "$DATA" --out .device/utk64.npz
/usr/bin/python3 models/tools/device_data.py checkpoint --checkpoint models/checkpoints/style-face.pt --out .device/style-face.pt
for path in models/checkpoints/style-face.pt models/checkpoints/style-face.train.pt models/progressive-face models/progressive-face-critic models/face-sr \
            models/default-face models/default-face-critic models/darknet-tiny; do
  [ -e "$path" ] || continue
  mkdir -p ".aside/$(dirname "$path")"
  mv "$path" ".aside/$path"
done
echo "prepared: .device/ holds $(du -sh .device | cut -f1); large model files are in .aside/ until restore.sh"
echo "travelling: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes tracked + .device"
