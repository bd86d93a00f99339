"""Train the style face generator (style_networks.py) across working sessions.

One run spans many sessions: each call trains for --minutes, checkpointing compactly every
--checkpoint-minutes (and on SIGINT/SIGTERM), and `--resume` continues where the last call
stopped. A checkpoint made at 64 px grows to 128 px when --resolution 128 asks for it: the
generator's new RGB layer starts at zero (the picture is kept) and the critic fades its new
input layer in over --fade-kimg.

Compact checkpoint (committed, two files under 20 MB each, see style_checkpoint.py): G, EMA G and
D in fp16; Adam's second moments in bfloat16, keyed by parameter name so they survive growth. EMA snapshots for choosing the best model by a
held-out metric go to OUT/snapshots/ (not committed).

Held out: 1,000 photos chosen by a fixed seed never reach training; their file names are
stored in the checkpoint, in OUT/holdout.json and next to the checkpoint (CHECKPOINT with
.holdout.json for .pt, committed with it), so evaluation uses exactly those.
"""
import argparse
import copy
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from plots import save_curves, save_grid
from progress import Progress
from run_control import Every, StopFlag
import style_checkpoint
from style_networks import StyleCritic, StyleGenerator, count_params, gflops_per_image
from train import diff_augment, load_data

HOLDOUT_SEED = 20261205


def holdout_split(n: int, count: int):
    """Fixed indices held out of training: the same for every session and for evaluation."""
    perm = np.random.RandomState(HOLDOUT_SEED).permutation(n)
    return np.sort(perm[:count]), np.sort(perm[count:])


def holdout_file(checkpoint: str) -> str:
    """The held-out list committed next to the checkpoint: style-face.pt -> style-face.holdout.json."""
    return os.path.splitext(checkpoint)[0] + ".holdout.json"


def write_holdout(path: str, files: list, data: str) -> None:
    """One name per line, so the committed list diffs readably; evaluation reads it (models/tools/judge.py)."""
    with open(path, "w") as f:
        json.dump({"seed": HOLDOUT_SEED, "data": data, "count": len(files),
                   "about": "photos the style trainer keeps out of training, for evaluation", "files": files},
                  f, indent=1)
        f.write("\n")


def pack_state(model: torch.nn.Module, dtype=torch.float16) -> dict:
    return {k: (v.to(dtype) if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}


def unpack_state(model: torch.nn.Module, state: dict, strict=True):
    own = model.state_dict()
    fixed = {k: v.to(own[k].dtype) for k, v in state.items() if k in own}
    return model.load_state_dict(fixed, strict=strict)


def pack_adam(opt: torch.optim.Adam, model: torch.nn.Module) -> dict:
    names = {id(p): n for n, p in model.named_parameters()}
    out = {}
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p)
            if st:
                # The first moment (beta1 0.5) forgets within a few steps: not worth its megabytes.
                out[names[id(p)]] = {"step": float(st["step"]), "v": st["exp_avg_sq"].to(torch.bfloat16).cpu()}
    return out


def unpack_adam(opt: torch.optim.Adam, model: torch.nn.Module, packed: dict) -> int:
    """Restore moments by parameter name; parameters added by growth start fresh."""
    restored = 0
    for name, p in model.named_parameters():
        st = packed.get(name)
        if st is None or st["v"].shape != p.shape:
            continue
        opt.state[p] = {"step": torch.tensor(st["step"]), "exp_avg": torch.zeros_like(p),
                        "exp_avg_sq": st["v"].float().to(p.device)}
        restored += 1
    return restored


def make_optimizers(G, D, lr):
    return (torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.99)),
            torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.99)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits train --arch style", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by `portraits dataset`")
    ap.add_argument("--out", required=True, help="run folder: samples, curves, snapshots")
    ap.add_argument("--checkpoint", required=True, help="compact checkpoint file (read with --resume, always written)")
    ap.add_argument("--resolution", type=int, default=64, choices=[64, 128],
                    help="output resolution in pixels; 128 grows a 64 px checkpoint (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=140, help="wall-clock budget of this call (default: %(default)s)")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps in this call (smoke tests), 0 for no limit (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=32, help="images per step (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=0.0002,
                    help="Adam learning rate of both networks (default: %(default)s)")
    ap.add_argument("--r1", type=float, default=0.001, help="R1 gamma (lazy, every 16 steps) (default: %(default)s)")
    ap.add_argument("--mix", type=float, default=0.5,
                    help="share of generator batches trained with style mixing (default: %(default)s)")
    ap.add_argument("--ema-kimg", type=float, default=10,
                    help="half-life of the generator EMA, thousands of images (default: %(default)s)")
    ap.add_argument("--fade-kimg", type=float, default=60,
                    help="thousands of images over which a grown critic input fades in (default: %(default)s)")
    ap.add_argument("--holdout", type=int, default=1000,
                    help="photos kept out of training for evaluation (a new run) (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0,
                    help="random seed; each call adds the step count (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="torch CPU threads (default: %(default)s, this machine's cores)")
    ap.add_argument("--sample-minutes", type=float, default=10,
                    help="minutes between sample grids and EMA snapshots (default: %(default)s)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5,
                    help="minutes between checkpoints (default: %(default)s)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where to train: this machine's CPU, or a CUDA GPU (models/tools/device/train-style-gpu.sh "
                         "runs it on a lent GPU machine); the checkpoint is the same either way (default: %(default)s)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("portraits train: --device cuda but torch sees no CUDA GPU here")
        # TF32 matrix units: about 8x the fp32 rate on Ampere and later, precision a GAN does not miss.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.data, "index.json")) as f:
        names = [e["file"] for e in json.load(f)]

    state = {"step": 0, "images": 0, "seconds": 0.0, "res": 64, "grown_at": None, "history": [], "sessions": []}
    G, D = StyleGenerator(max_res=64), StyleCritic(64)
    ck = None
    if args.resume:
        if not os.path.exists(args.checkpoint):
            sys.exit(f"portraits train: --resume but {args.checkpoint} does not exist")
        ck = style_checkpoint.load(args.checkpoint)
        state = ck["state"]
        G, D = StyleGenerator(max_res=state["res"]), StyleCritic(state["res"])
        unpack_state(G, ck["G"]); unpack_state(D, ck["D"])
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    if ck:
        unpack_state(G_ema, ck["G_ema"])
        holdout_files = ck["holdout"]
    else:
        hold_idx, _ = holdout_split(len(names), args.holdout)
        holdout_files = [names[i] for i in hold_idx]
    if state["res"] < args.resolution:  # grow 64 -> 128
        for m in (G, G_ema):
            m.grow()
        D.grow()
        state["res"], state["grown_at"] = args.resolution, state["images"]
        G_ema.load_state_dict({**G_ema.state_dict(), **{k: v for k, v in G.state_dict().items()
                                                         if k.startswith(f"blocks.{args.resolution}") or
                                                         k.startswith(f"sle.{args.resolution}")}})
        print(f"grew to {args.resolution}px at {state['images']} images", file=sys.stderr)
    res = state["res"]
    for m in (G, G_ema, D):
        m.to(device=device, memory_format=torch.channels_last)
    G_ema.requires_grad_(False)
    opt_g, opt_d = make_optimizers(G, D, args.lr)
    if ck:
        # A checkpoint packed to travel to a GPU machine (device_data.py checkpoint) leaves the
        # moments behind; Adam's second moments (beta2 0.99) settle again within a few hundred steps.
        rg, rd = unpack_adam(opt_g, G, ck.get("opt_g", {})), unpack_adam(opt_d, D, ck.get("opt_d", {}))
        print(f"resumed at step {state['step']}, {state['images']:,} images, {state['seconds'] / 3600:.2f} h "
              f"(Adam moments for {rg} G and {rd} D tensors)", file=sys.stderr)
    random.seed(args.seed + state["step"])
    torch.manual_seed(args.seed + state["step"])

    held = set(holdout_files)
    train_idx = np.array([i for i, n in enumerate(names) if n not in held])
    with open(os.path.join(args.out, "holdout.json"), "w") as f:
        json.dump({"seed": HOLDOUT_SEED, "files": holdout_files}, f)
    os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)
    write_holdout(holdout_file(args.checkpoint), holdout_files, os.path.relpath(os.path.abspath(args.data)))
    data = load_data(args.data, res)[torch.from_numpy(train_idx)].to(device)
    n = data.shape[0]

    settings = {k: v for k, v in vars(args).items() if k != "resume"}
    settings.update({"images_in_training": n, "held_out": len(holdout_files), "g_params": count_params(G),
                     "d_params": count_params(D), "gflops_per_image": round(gflops_per_image(G), 3),
                     "loss": "non-saturating logistic + lazy R1", "augment": "DiffAugment colour,translation + x-flip",
                     "optimizer": "Adam betas (0.5, 0.99)",
                     "architecture": "mapping network (W space) + modulated 3x3 convs with batch norm, "
                                     "skip RGB outputs, FastGAN skip-layer excitation; DCGAN-style critic, minibatch stddev"})
    with open(os.path.join(args.out, "settings.json"), "w") as f:
        json.dump(settings, f, indent=2)
    print(f"training {res}px on {n:,} photos on {device} ({len(holdout_files)} held out): G {count_params(G):,} params, "
          f"{gflops_per_image(G):.2f} GFLOP/image; D {count_params(D):,} params; {args.minutes:.0f} min",
          file=sys.stderr)

    fixed_z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(1234)).to(device)
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "from_images": state["images"], "res": res, "device": args.device}
    state["sessions"].append(session)
    stop = StopFlag()

    def save_checkpoint():
        session["to_images"] = state["images"]
        style_checkpoint.save({"format": "portraits-style-checkpoint/1", "G": pack_state(G), "G_ema": pack_state(G_ema),
                               "D": pack_state(D), "opt_g": pack_adam(opt_g, G), "opt_d": pack_adam(opt_d, D),
                               "state": state, "holdout": holdout_files, "settings": settings}, args.checkpoint)

    def save_snapshot():
        snap = os.path.join(args.out, "snapshots", f"ema-{state['images'] // 1000:05d}k.pt")
        os.makedirs(os.path.dirname(snap), exist_ok=True)
        torch.save({"G_ema": pack_state(G_ema), "res": res, "images": state["images"]}, snap)
        with torch.no_grad():
            G_ema.eval()
            save_grid(G_ema(fixed_z), os.path.join(args.out, "samples", f"{state['images'] // 1000:05d}k.png"),
                      upscale_to=128)
        save_curves(state["history"], os.path.join(args.out, "loss.png"))

    def reals(b, alpha):
        x = data[torch.randint(0, n, (b,), device=device)].float().div_(127.5).sub_(1.0)
        flip = torch.rand(b, device=device) < 0.5
        x[flip] = x[flip].flip(3)
        if alpha < 1.0:  # while the critic's new input fades in, reals are blended the same way
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
            x = torch.lerp(low, x, alpha)
        return x.contiguous(memory_format=torch.channels_last)

    def fakes(b):
        z = torch.randn(b, G.z_dim, device=device)
        ws = G.ws(z)
        if args.mix > 0 and random.random() < args.mix:  # style mixing: two w's, a random crossover layer
            ws2 = G.ws(torch.randn(b, G.z_dim, device=device))
            cut = random.randint(1, ws.shape[1] - 1)
            ws = torch.cat([ws[:, :cut], ws2[:, cut:]], dim=1)
        with torch.no_grad():
            G.w_avg.lerp_(ws[:, 0].mean(0), 0.005)
        return G.synthesis(ws)

    t0 = time.time()
    budget = args.minutes * 60
    sample_due, checkpoint_due = Every(args.sample_minutes), Every(args.checkpoint_minutes)
    prog = Progress(budget, "train", "s")
    b = args.batch
    steps_this_call = 0
    while not stop.now and time.time() - t0 < budget:
        if args.max_steps and steps_this_call >= args.max_steps:
            break
        step_t0 = time.time()
        alpha = 1.0
        if state["grown_at"] is not None:
            alpha = min(1.0, (state["images"] - state["grown_at"]) / (args.fade_kimg * 1000))

        with torch.no_grad():
            fake = fakes(b)
        real = reals(b, alpha)
        loss_d = F.softplus(D(diff_augment(fake), alpha)).mean() + F.softplus(-D(diff_augment(real), alpha)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if args.r1 > 0 and state["step"] % 16 == 0:
            real_r1 = real.detach().requires_grad_(True)
            grad, = torch.autograd.grad(D(diff_augment(real_r1), alpha).sum(), real_r1, create_graph=True)
            opt_d.zero_grad(set_to_none=True)
            (grad.pow(2).sum(dim=[1, 2, 3]).mean() * (args.r1 / 2) * 16).backward()
            opt_d.step()

        loss_g = F.softplus(-D(diff_augment(fakes(b)), alpha)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        half_life = min(args.ema_kimg * 1000, (state["images"] + b) * 0.1 + 1)
        beta = 0.5 ** (b / half_life)
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(p, 1 - beta)
            for be, bb in zip(G_ema.buffers(), G.buffers()):  # batch-norm statistics and w_avg
                be.copy_(bb)

        state["step"] += 1
        steps_this_call += 1
        state["images"] += b
        dt = time.time() - step_t0
        state["seconds"] += dt
        prog.update(dt, f"{res}px a={alpha:.2f} {state['images'] / 1000:.1f}k img D {float(loss_d):.3f} "
                        f"G {float(loss_g):.3f}")
        if state["step"] % 10 == 0:
            state["history"].append({"step": state["step"], "images": state["images"], "res": res,
                                     "alpha": round(alpha, 3), "loss_d": float(loss_d), "loss_g": float(loss_g),
                                     "ms_per_step": round(dt * 1000, 1)})
        if sample_due.due():
            save_snapshot()
        if checkpoint_due.due():
            save_checkpoint()

    prog.close()
    save_checkpoint()
    save_snapshot()
    print(f"stopped: {state['step']} steps, {state['images']:,} images in all ({state['seconds'] / 3600:.2f} h); "
          f"checkpoint {args.checkpoint} and {style_checkpoint.companion(args.checkpoint)} "
          f"({style_checkpoint.size_bytes(args.checkpoint) / 1e6:.1f} MB together)", file=sys.stderr)


if __name__ == "__main__":
    main()
