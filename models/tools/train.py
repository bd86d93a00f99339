"""Train the progressive face GAN on a curated data set (`portraits dataset` output).

Schedule: start at 8x8; every further resolution is first faded in (alpha 0 -> 1),
then trained stable. Phase lengths come from --kimg (thousands of real images shown)
or, with --minutes, from a wall-clock budget split by the same weights (the default
model was trained that way, so it finishes inside one working session).
Loss: non-saturating logistic with lazy R1 on reals. DiffAugment (colour, translation)
on every image the critic sees keeps a small data set from being memorised.
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from networks import Critic, Generator, count_params, resolutions
from progress import Progress, fmt
from plots import save_grid, save_curves

MIN_IMAGES = 16


def diff_augment(x: torch.Tensor) -> torch.Tensor:
    """DiffAugment (Zhao et al. 2020): differentiable colour + translation, same for reals and fakes."""
    n = x.shape[0]
    # Colour at a quarter of DiffAugment's published strength: at full strength the
    # critic here could not tell blobs from faces and the generator collapsed.
    dev = x.device  # the same on the CPU and on a GPU (train_style.py --device)
    x = x + (torch.rand(n, 1, 1, 1, device=dev) - 0.5) * 0.25  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (1 + (torch.rand(n, 1, 1, 1, device=dev) - 0.5) * 0.5) + mean  # saturation
    h, w = x.shape[2:]
    sh, sw = max(1, h // 8), max(1, w // 8)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=dev)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=dev)
    gy, gx = torch.meshgrid(torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij")
    gy = torch.clamp(gy[None] + ty + 1, 0, h + 1)
    gx = torch.clamp(gx[None] + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    idx = (gy * (w + 2) + gx).view(n, 1, -1).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, idx).view_as(x).contiguous(memory_format=torch.channels_last)


def build_phases(max_res: int, total: float):
    """[(res, fading, length)]: 8 stable, then fade+stable for each doubling; later phases get more."""
    res = resolutions(max_res)
    weights = [(res[0], False, 1.0)]
    for i, r in enumerate(res[1:], start=1):
        # each doubling costs about 4x per image; the last resolution gets the most time
        fade, stable = (2.0, 6.0) if r == max_res else (float(i), float(i) + (1.0 if i > 1 else 0.0))
        weights += [(r, True, fade), (r, False, stable)]
    s = sum(w for _, _, w in weights)
    return [(r, f, total * w / s) for r, f, w in weights]


def load_data(folder: str, res: int):
    path = os.path.join(folder, "images.npy")
    if not os.path.exists(path):
        sys.exit(f"portraits train: {path} not found; make it with `portraits dataset --from PHOTOS --out {folder}`")
    arr = np.load(path, mmap_mode="r")
    if arr.ndim != 4 or arr.shape[3] != 3:
        sys.exit(f"portraits train: {path} has shape {arr.shape}; expected [N, H, W, 3]")
    if arr.shape[0] < MIN_IMAGES:
        sys.exit(f"portraits train: the data set has {arr.shape[0]} images; at least {MIN_IMAGES} are needed "
                 "(a useful model wants thousands)")
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)
    if x.shape[2] != res:
        x = torch.cat([F.interpolate(x[i:i + 1024].float(), size=(res, res), mode="area").round().to(torch.uint8)
                       for i in range(0, x.shape[0], 1024)])
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by `portraits dataset`")
    ap.add_argument("--out", required=True, help="run folder: checkpoints, samples, curves")
    ap.add_argument("--resolution", type=int, default=64, choices=[16, 32, 64, 128],
                    help="final resolution in pixels, grown from 8x8 (default: %(default)s)")
    ap.add_argument("--latent", type=int, default=128, help="length of the latent vector z (default: %(default)s)")
    ap.add_argument("--kimg", type=float, default=600,
                    help="thousands of real images over all phases (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=0,
                    help="wall-clock budget instead of --kimg, 0 to use --kimg (default: %(default)s)")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps (smoke tests), 0 for no limit (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=32,
                    help="images per step, doubled at 16 px and below (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=0.0002,
                    help="Adam learning rate of both networks (default: %(default)s)")
    ap.add_argument("--r1", type=float, default=0.001,
                    help="R1 gamma (lazy, every 16 steps); >= 0.05 froze the critic here (default: %(default)s)")
    ap.add_argument("--ema-kimg", type=float, default=10,
                    help="half-life of the generator EMA, thousands of images (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="torch CPU threads (default: %(default)s, this machine's cores)")
    ap.add_argument("--sample-every", type=int, default=500, help="steps between sample grids (default: %(default)s)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5,
                    help="minutes between checkpoints (default: %(default)s)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--ema-reset", action="store_true",
                    help="with --resume: restart the generator EMA from the current generator (a lagging EMA "
                         "still carries the newest layer's initial weights and tints the samples)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    data = load_data(args.data, args.resolution)
    n = data.shape[0]
    by_time = args.minutes > 0
    budget = args.minutes * 60 if by_time else args.kimg * 1000
    phases = build_phases(args.resolution, budget)

    G = Generator(args.latent, args.resolution).to(memory_format=torch.channels_last)
    D = Critic(args.resolution).to(memory_format=torch.channels_last)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.99))
    state = {"step": 0, "used": 0.0, "images": 0, "history": []}
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    if args.resume:
        if not os.path.exists(ckpt_path):
            sys.exit(f"portraits train: --resume but {ckpt_path} does not exist")
        ck = torch.load(ckpt_path)
        G.load_state_dict(ck["G"]); D.load_state_dict(ck["D"]); G_ema.load_state_dict(ck["G_ema"])
        opt_g.load_state_dict(ck["opt_g"]); opt_d.load_state_dict(ck["opt_d"])
        state = ck["state"]
        torch.set_rng_state(ck["rng"])
        if args.ema_reset:
            G_ema.load_state_dict(G.state_dict())
        print(f"resumed at step {state['step']}, {state['images']} images", file=sys.stderr)

    settings = {k: v for k, v in vars(args).items() if k not in ("resume", "ema_reset")}
    settings.update({"images_in_dataset": n, "g_params": count_params(G), "d_params": count_params(D),
                     "phases": [{"res": r, "fade": f, ("seconds" if by_time else "images"): round(l)}
                                for r, f, l in phases],
                     "loss": "non-saturating logistic + lazy R1", "augment": "DiffAugment colour,translation",
                     "optimizer": "Adam betas (0.5, 0.99)", "architecture": "progressive DCGAN-style (batch norm), minibatch stddev"})
    with open(os.path.join(args.out, "settings.json"), "w") as f:
        json.dump(settings, f, indent=2)
    print(f"training: {n} images at {args.resolution}px, G {count_params(G):,} / D {count_params(D):,} params, "
          f"{'%.0f min' % args.minutes if by_time else '%.0f kimg' % args.kimg}", file=sys.stderr)

    fixed_z = torch.randn(64, args.latent, generator=torch.Generator().manual_seed(1234))
    t_start = time.time() - (state["used"] if by_time else 0)
    last_ckpt = time.time()
    prog = Progress(budget, "train", "s" if by_time else "img", start=state["used"])

    def phase_at(used):
        acc = 0.0
        for r, fading, length in phases:
            if used < acc + length:
                return r, (min(1.0, (used - acc) / length) if fading else 1.0)
            acc += length
        return None, 1.0

    def save_checkpoint():
        tmp = ckpt_path + ".tmp"
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "G_ema": G_ema.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "state": state,
                    "rng": torch.get_rng_state(), "settings": settings}, tmp)
        os.replace(tmp, ckpt_path)

    def reals_at(res, alpha, b):
        idx = torch.randint(0, n, (b,))
        x = data[idx].float().div_(127.5).sub_(1.0)
        flip = torch.rand(b) < 0.5
        x[flip] = x[flip].flip(3)
        if res != args.resolution:
            x = F.adaptive_avg_pool2d(x, res)
        if alpha < 1.0:  # the critic sees reals blended the same way as the fading generator
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
            x = torch.lerp(low, x, alpha)
        return x.contiguous(memory_format=torch.channels_last)

    while True:
        res, alpha = phase_at(state["used"])
        if res is None or (args.max_steps and state["step"] >= args.max_steps):
            break
        b = args.batch if res > 16 else args.batch * 2
        step_t0 = time.time()

        # Critic step.
        z = torch.randn(b, args.latent)
        with torch.no_grad():
            fake = G(z, res, alpha)
        real = reals_at(res, alpha, b)
        d_real = D(diff_augment(real), res, alpha)
        d_fake = D(diff_augment(fake), res, alpha)
        loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        r1_val = 0.0
        if args.r1 > 0 and state["step"] % 16 == 0:
            real_r1 = real.detach().requires_grad_(True)
            out = D(diff_augment(real_r1), res, alpha)
            grad, = torch.autograd.grad(out.sum(), real_r1, create_graph=True)
            r1 = grad.pow(2).sum(dim=[1, 2, 3]).mean()
            opt_d.zero_grad(set_to_none=True)
            (r1 * (args.r1 / 2) * 16).backward()
            opt_d.step()
            r1_val = float(r1)

        # Generator step.
        z = torch.randn(b, args.latent)
        loss_g = F.softplus(-D(diff_augment(G(z, res, alpha)), res, alpha)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        # EMA of G with a half-life in images, ramped up so early samples are not all init noise.
        half_life = min(args.ema_kimg * 1000, (state["images"] + b) * 0.1 + 1)
        beta = 0.5 ** (b / half_life)
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(p, 1 - beta)
            for be, bb in zip(G_ema.buffers(), G.buffers()):  # batch-norm statistics
                be.copy_(bb)

        state["step"] += 1
        state["images"] += b
        used = (time.time() - t_start) if by_time else b
        if by_time:
            prog.update(used - state["used"], f"{res}px a={alpha:.2f} D {float(loss_d):.3f} G {float(loss_g):.3f}")
            state["used"] = used
        else:
            state["used"] += b
            prog.update(b, f"{res}px a={alpha:.2f} D {float(loss_d):.3f} G {float(loss_g):.3f}")
        if state["step"] % 10 == 0:
            state["history"].append({"step": state["step"], "images": state["images"], "res": res,
                                     "alpha": round(alpha, 3), "loss_d": float(loss_d), "loss_g": float(loss_g),
                                     "r1": r1_val, "ms_per_step": round((time.time() - step_t0) * 1000, 1)})
        if state["step"] % args.sample_every == 0:
            with torch.no_grad():
                save_grid(G_ema(fixed_z, res, alpha), os.path.join(args.out, "samples", f"{state['step']:07d}.png"),
                          upscale_to=args.resolution)
            save_curves(state["history"], os.path.join(args.out, "loss.png"))
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save_checkpoint()
            last_ckpt = time.time()

    prog.close()
    state["wall_seconds"] = round(time.time() - t_start, 1) if by_time else None
    save_checkpoint()
    with torch.no_grad():
        save_grid(G_ema(fixed_z), os.path.join(args.out, "samples", "final.png"), upscale_to=args.resolution)
    save_curves(state["history"], os.path.join(args.out, "loss.png"))
    print(f"done: {state['step']} steps, {state['images']} images; checkpoint {ckpt_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
