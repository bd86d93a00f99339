"""Pack the curated training set small enough to travel to a lent GPU machine, and unpack it there.

The device tool sends the working tree, at most 64 MiB with everything else in it, and the
style generator trains at 64 px: so `pack` shrinks DATA/images.npy to 64 px (area, as the
trainer itself does) and stores each photo as a JPEG (quality --quality) in one .npz with the
index; `unpack` decodes it back into a folder the trainer reads (images.npy + index.json).
The packed file holds UTKFace photos: keep it in a git-ignored folder (.device/), never commit it.

  python3 models/tools/device_data.py pack --data data/utk128 --out .device/utk64.npz
  python3 models/tools/device_data.py unpack --packed .device/utk64.npz --out /tmp/utk64

`checkpoint` writes a copy of the style checkpoint without the optimisers' moments (32.7 -> about
20 MB; the trainer resumes without them, Adam's moments settle within a few hundred steps).

  python3 models/tools/device_data.py checkpoint --checkpoint models/checkpoints/style-face.pt --out .device/style-face.pt
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np


def pack(data: str, out: str, res: int, quality: int) -> None:
    images = np.load(os.path.join(data, "images.npy"), mmap_mode="r")
    with open(os.path.join(data, "index.json")) as f:
        index = f.read()
    if len(json.loads(index)) != images.shape[0]:
        sys.exit(f"device_data: {data}/index.json and images.npy disagree on the count")
    blobs, offsets = [], [0]
    for i in range(images.shape[0]):
        rgb = np.asarray(images[i])
        if rgb.shape[0] != res:
            rgb = cv2.resize(rgb, (res, res), interpolation=cv2.INTER_AREA)
        ok, jpg = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            sys.exit(f"device_data: could not encode photo {i}")
        blobs.append(jpg.reshape(-1))
        offsets.append(offsets[-1] + jpg.size)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    np.savez(out, jpegs=np.concatenate(blobs), offsets=np.array(offsets, np.int64), index=np.frombuffer(index.encode(), np.uint8),
             res=np.array(res))
    print(json.dumps({"packed": out, "photos": images.shape[0], "res": res, "quality": quality,
                      "megabytes": round(os.path.getsize(out) / 1e6, 1)}))


def unpack(packed: str, out: str) -> None:
    z = np.load(packed)
    jpegs, offsets = z["jpegs"], z["offsets"]
    res = int(z["res"])
    n = len(offsets) - 1
    images = np.empty((n, res, res, 3), np.uint8)
    for i in range(n):
        bgr = cv2.imdecode(jpegs[offsets[i]:offsets[i + 1]], cv2.IMREAD_COLOR)
        if bgr is None or bgr.shape[:2] != (res, res):
            sys.exit(f"device_data: photo {i} of {packed} does not decode to {res}x{res}")
        images[i] = bgr[:, :, ::-1]
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "images.npy"), images)
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(z["index"].tobytes())
    print(json.dumps({"unpacked": out, "photos": n, "res": res}))


def light_checkpoint(checkpoint: str, out: str) -> None:
    import shutil

    import style_checkpoint
    ck = style_checkpoint.load(checkpoint, map_location="cpu")
    for key in ("opt_g", "opt_d"):
        ck.pop(key, None)
    style_checkpoint.save(ck, out)
    holdout = os.path.splitext(checkpoint)[0] + ".holdout.json"
    if os.path.exists(holdout):
        shutil.copyfile(holdout, os.path.splitext(out)[0] + ".holdout.json")
    print(json.dumps({"checkpoint": out, "images": ck["state"]["images"], "megabytes": round(style_checkpoint.size_bytes(out) / 1e6, 1)}))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="device_data.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="DATA (images.npy + index.json) -> one .npz of JPEGs")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--res", type=int, default=64, help="side in pixels (default: %(default)s, the style trainer's)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality (default: %(default)s)")
    u = sub.add_parser("unpack", help="the .npz -> a folder the trainer reads")
    u.add_argument("--packed", required=True)
    u.add_argument("--out", required=True)
    c = sub.add_parser("checkpoint", help="the style checkpoint without the optimisers' moments")
    c.add_argument("--checkpoint", required=True)
    c.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "pack":
        pack(args.data, args.out, args.res, args.quality)
    elif args.cmd == "checkpoint":
        light_checkpoint(args.checkpoint, args.out)
    else:
        unpack(args.packed, args.out)


if __name__ == "__main__":
    main()
