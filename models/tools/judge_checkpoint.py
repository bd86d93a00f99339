"""Judge a style training checkpoint directly in torch, without exporting it: for tracking
training progress (which snapshot is best) between exports. The model card's figures come
from `portraits evaluate` on the exported ONNX model instead; this entry never writes a card.

Takes the compact checkpoint (models/checkpoints/style-face.pt) or an EMA snapshot
(runs/style-face/snapshots/ema-*.pt). The EMA generator's batch-norm statistics are
re-estimated for its own weights (style_networks.recalibrate_batchnorm, as export does),
then --n faces are drawn from standard-normal latents (torch seed --seed; not the seeds
the installation uses, which does not matter for a distribution distance) at truncation
--psi (1: the distribution it learned) and judged by judge.py against the held-out photos.

  python3 models/tools/judge_checkpoint.py --checkpoint models/checkpoints/style-face.pt \\
      [--n 1000] [--sizes 128,256] [--eyes-n 0 | --no-eyes] [--log runs/style-face/judge.jsonl]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

import judge as jd
from style_networks import StyleGenerator, recalibrate_batchnorm
from train_style import holdout_file, unpack_state


def load_ema(path: str) -> tuple:
    """(EMA generator in eval mode with re-estimated batch norm, images trained on)."""
    ck = torch.load(path, map_location="cpu")
    if "state" in ck:  # the compact training checkpoint
        res, images = int(ck["state"]["res"]), int(ck["state"]["images"])
    elif "res" in ck:  # an EMA snapshot
        res, images = int(ck["res"]), int(ck.get("images", 0))
    else:
        raise jd.JudgeError(f"{path} is neither a style checkpoint nor an EMA snapshot")
    g = StyleGenerator(max_res=res)
    unpack_state(g, ck["G_ema"])
    recalibrate_batchnorm(g)
    return g.eval(), images


@torch.no_grad()
def sample(g: StyleGenerator, n: int, psi: float, seed: int, batch: int = 50) -> np.ndarray:
    """[n, res, res, 3] uint8, rounded as models/eval/raw-images.ts nchwToRgb8 does."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, batch):
        z = torch.randn(min(batch, n - start), g.z_dim, generator=gen)
        x = g(z, psi=psi).clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
        out.append(x.permute(0, 2, 3, 1).contiguous().numpy())
    return np.concatenate(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="judge_checkpoint.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="style checkpoint or EMA snapshot (.pt)")
    ap.add_argument("--data", default=os.path.join(jd.REPO, "data", "utk128"), help="curated set (index.json)")
    ap.add_argument("--holdout", default="", help="held-out list (default: next to the checkpoint, else the committed one)")
    ap.add_argument("--photos", default=jd.DEFAULT_PHOTOS)
    ap.add_argument("--darknet", default=jd.DEFAULT_DARKNET)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--eyes-n", type=int, default=0)
    ap.add_argument("--no-eyes", action="store_true")
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (training may be using the others)")
    ap.add_argument("--log", default="", help="append the result as one JSON line to this file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    holdout = args.holdout or holdout_file(args.checkpoint)
    if not os.path.exists(holdout):
        holdout = jd.DEFAULT_HOLDOUT
    try:
        t0 = time.time()
        g, images = load_ema(args.checkpoint)
        faces = sample(g, args.n, args.psi, args.seed)
        print(f"sampled {args.n} faces at {faces.shape[1]} px from {args.checkpoint} ({images:,} images trained) "
              f"in {time.time() - t0:.0f} s", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="portraits-judge-") as work:
            j = jd.evaluate_faces(faces, args.n, [int(s) for s in args.sizes.split(",")], holdout, args.data,
                                  args.photos, work, darknet=args.darknet, eyes=not args.no_eyes, eyes_n=args.eyes_n)
    except jd.JudgeError as e:
        sys.exit(f"judge_checkpoint: {e}")
    record = {"checkpoint": os.path.relpath(os.path.abspath(args.checkpoint), jd.REPO), "images": images,
              "psi": args.psi, "seed": args.seed, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "summary": jd.summary(j), "judge": j}
    if args.log:
        with open(args.log, "a") as f:
            f.write(json.dumps(record) + "\n")
    print(json.dumps({k: record[k] for k in ("checkpoint", "images", "psi", "summary")}), flush=True)


if __name__ == "__main__":
    main()
