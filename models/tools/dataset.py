"""Curate a folder of portrait photos into a training set.

Every file is decoded; unreadable, too small, blurry and near-duplicate images are
rejected and counted per reason (never fatal). Survivors are centre-cropped,
resized and stored as one uint8 array so training reads them at memory speed.

Output (in --out):
  images.npy    uint8 [N, size, size, 3] RGB
  index.json    file name and optional UTKFace labels (age, gender, race) per row
  report.json   counts per reason, thresholds, timing
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

from progress import Progress

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def phash(gray: np.ndarray) -> int:
    """64-bit perceptual hash: sign of the low 8x8 DCT block against its median."""
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def centre_square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return img[y:y + s, x:x + s]


def utk_labels(name: str):
    """UTKFace names are age_gender_race_datetime.jpg.chip.jpg; other archives have none."""
    parts = name.split("_")
    try:
        return {"age": int(parts[0]), "gender": int(parts[1]), "race": int(parts[2])}
    except (IndexError, ValueError):
        return None


def load(path: str):
    """Decode any image as 8-bit RGB, or say why not."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        return None, "empty"
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        return None, "unreadable"
    if img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2RGB)
    return img, None


def hamming_near(hashes: np.ndarray, max_bits: int) -> np.ndarray:
    """Indices to drop: each image whose hash is within max_bits of an earlier kept one."""
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    as_bytes = hashes.view(np.uint8).reshape(-1, 8)
    drop = np.zeros(len(hashes), dtype=bool)
    prog = Progress(len(hashes), "dedupe")
    chunk = 512
    for start in range(0, len(hashes), chunk):
        block = as_bytes[start:start + chunk]
        dist = table[block[:, None, :] ^ as_bytes[None, :, :]].sum(axis=2, dtype=np.uint16)
        for r in range(block.shape[0]):
            i = start + r
            if drop[i]:
                continue
            near = np.nonzero(dist[r, i + 1:] <= max_bits)[0] + i + 1
            drop[near] = True
        prog.update(min(chunk, len(hashes) - start))
    prog.close()
    return drop


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits dataset", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", required=True, help="folder of photos (searched recursively)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--size", type=int, default=128, help="output side in pixels (default: %(default)s)")
    ap.add_argument("--min-size", type=int, default=64,
                    help="reject photos whose short side is smaller (default: %(default)s)")
    ap.add_argument("--blur", type=float, default=40.0,
                    help="reject when the variance of the Laplacian (at the output size) is below this "
                         "(default: %(default)s)")
    ap.add_argument("--dup-bits", type=int, default=4,
                    help="perceptual-hash Hamming distance at or below which two photos are near-duplicates "
                         "(default: %(default)s)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N files, 0 for all (default: %(default)s)")
    args = ap.parse_args(argv)

    if not os.path.isdir(args.src):
        sys.exit(f"portraits dataset: --from {args.src!r} is not a folder")
    files = sorted(
        os.path.join(root, f) for root, _, names in os.walk(args.src) for f in names
        if os.path.splitext(f.lower())[1] in IMAGE_EXT or f.lower().endswith(".chip.jpg"))
    if args.limit:
        files = files[:args.limit]
    if not files:
        sys.exit(f"portraits dataset: no image files found in {args.src!r}")
    os.makedirs(args.out, exist_ok=True)

    t0 = time.time()
    counts = {"files": len(files), "unreadable": 0, "empty": 0, "too_small": 0, "blurry": 0,
              "near_duplicate": 0, "greyscale_converted": 0, "kept": 0}
    images, hashes, index = [], [], []
    prog = Progress(len(files), "decode")
    for path in files:
        prog.update(1)
        img, why = load(path)
        if img is None:
            counts[why] += 1
            continue
        h, w = img.shape[:2]
        if min(h, w) < args.min_size:
            counts["too_small"] += 1
            continue
        if np.abs(img[:, :, 0].astype(int) - img[:, :, 1]).max() < 3 and \
           np.abs(img[:, :, 1].astype(int) - img[:, :, 2]).max() < 3:
            counts["greyscale_converted"] += 1  # kept: grey photos are still portraits
        sq = cv2.resize(centre_square(img), (args.size, args.size), interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(sq, cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        if sharpness < args.blur:
            counts["blurry"] += 1
            continue
        images.append(sq)
        hashes.append(phash(gray))
        name = os.path.relpath(path, args.src)
        entry = {"file": name, "sharpness": round(sharpness, 1)}
        labels = utk_labels(os.path.basename(name))
        if labels:
            entry.update(labels)
        index.append(entry)
    prog.close()

    if images:
        drop = hamming_near(np.array(hashes, dtype=np.uint64), args.dup_bits)
        counts["near_duplicate"] = int(drop.sum())
        keep = np.nonzero(~drop)[0]
        images = [images[i] for i in keep]
        index = [index[i] for i in keep]
    counts["kept"] = len(images)
    if not images:
        sys.exit("portraits dataset: every image was rejected; see the counts above: " + json.dumps(counts))

    arr = np.stack(images)
    np.save(os.path.join(args.out, "images.npy"), arr)
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f)
    report = {"source": os.path.abspath(args.src), "size": args.size, "counts": counts,
              "thresholds": {"min_size": args.min_size, "blur_laplacian_var": args.blur,
                             "dup_hamming_bits": args.dup_bits},
              "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
