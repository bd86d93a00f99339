"""Train the face stage (models/tools/face_sr.py): x2 super-resolution for faces, on pairs
made from real photos (a crop of the photo, and the same crop made 2x smaller by a random
camera-like degradation), with pixel (L1), perceptual (Darknet tiny features) and
adversarial (patch critic) losses.

Time-budgeted and resumable like the generator's trainer: the compact checkpoint (fp16
weights of the network, its EMA and the critic; the optimiser state, tiny here) is written
every few minutes and on SIGTERM, and --resume continues from it. The photos held out of
the generator's training (--holdout, the same 1000 the evaluation uses) are held out here
too; a fixed set of them is the validation: L1 against the original and detail (high
frequency energy) relative to the original, for the network and for plain bicubic.

  /usr/bin/python3 models/tools/train_face_sr.py --data data/utk200 \
      --holdout models/checkpoints/style-face.holdout.json --checkpoint models/checkpoints/face-sr.pt \
      --out runs/face-sr --minutes 60 [--resume]

With --base 64 it is trained for the stack instead: the live stage gets the 64 px base face
enlarged linearly to 128 px (what the dream stage hands on) and must make 256 px of it, so
the pairs are the photo at 256 px and the same photo shrunk to 64 (by area, as the
generator's training photos were) and enlarged to 128. With --generator (a style checkpoint)
part of each batch is that generator's own faces: no original exists for them, so the critic
judges them against real photos and, shrunk back to 64 px, they must stay the generator's
face (--consistency): the stage learns to repair the generator's faults rather than sharpen
them, which is what a stage trained on real pairs alone did to the older default's faces.
"""
import argparse
import copy
import json
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from face_sr import DarknetFeatures, FaceSR, PatchCritic, base_pair, degrade, detail, enlarge, gflops, shrink, to_tensor
from progress import Progress
from run_control import Every, StopFlag

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VALIDATION = 48


def pack(model, dtype=torch.float16):
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in model.state_dict().items()}


def unpack(model, state):
    own = model.state_dict()
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def load_holdout(path: str) -> set:
    if not path:
        return set()
    with open(path) as f:
        data = json.load(f)
    return set(data["files"] if isinstance(data, dict) else data)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits train --arch face-sr", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by `portraits dataset` (native size, e.g. 200 px)")
    ap.add_argument("--holdout", default="",
                    help="JSON of photo file names kept out of training (the generator's holdout); without one, the "
                         "last photos are held out for validation")
    ap.add_argument("--out", required=True, help="run folder: samples and curves")
    ap.add_argument("--checkpoint", required=True, help="compact checkpoint (read with --resume, always written)")
    ap.add_argument("--darknet", default=os.path.join(REPO, "models", "darknet-tiny", "model.onnx"),
                    help="Darknet tiny ONNX for the perceptual loss (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=60, help="wall-clock budget of this call (default: %(default)s)")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps in this call (smoke tests), 0 for no limit (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=16, help="crops per step (default: %(default)s)")
    ap.add_argument("--crop", type=int, default=96,
                    help="side of the high-resolution training crops, px (even) (default: %(default)s)")
    ap.add_argument("--channels", type=int, default=32,
                    help="feature channels of a new network; --resume keeps its own (default: %(default)s)")
    ap.add_argument("--blocks", type=int, default=4,
                    help="residual blocks of a new network; --resume keeps its own (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=2e-4,
                    help="Adam learning rate of the network and the critic (default: %(default)s)")
    ap.add_argument("--perceptual", type=float, default=0.2,
                    help="weight of the perceptual loss, 0 for none (default: %(default)s)")
    ap.add_argument("--adversarial", type=float, default=0.01,
                    help="weight of the adversarial loss (default: %(default)s)")
    ap.add_argument("--adversarial-after", type=int, default=1000,
                    help="steps of pixel and perceptual loss alone first (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="torch CPU threads (default: %(default)s, this machine's cores)")
    ap.add_argument("--sample-minutes", type=float, default=10,
                    help="minutes between validations and sample grids (default: %(default)s)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5,
                    help="minutes between checkpoints (default: %(default)s)")
    ap.add_argument("--fold", type=int, default=1, choices=(1, 2),
                    help="2 runs a new network on 2x2 pixel blocks (a quarter of the work per layer); --resume keeps its own (default: %(default)s)")
    ap.add_argument("--critic-channels", type=int, default=0,
                    help="channels of the patch critic's first layer (its cost grows with their square; default: "
                         "the checkpoint's, else 32); --resume with another width starts a new critic")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the weights (default: %(default)s)")
    ap.add_argument("--base", type=int, default=0,
                    help="train the stack's face stage for a base generator of this many px (e.g. 64): pairs are the "
                         "photo at 4x that size and the photo shrunk to it and enlarged 2x, the stage's live input; "
                         "0: plain x2 on the photos at their own size (default: %(default)s, or the checkpoint's)")
    ap.add_argument("--generator", default="",
                    help="a style checkpoint (e.g. models/checkpoints/style-face.pt) whose own faces join the training "
                         "with --base: the critic judges them lifted against real photos, and shrunk back they must "
                         "stay the generator's face, so the stage repairs its faults instead of sharpening them")
    ap.add_argument("--generated", type=float, default=0.5,
                    help="share of each batch that is the generator's faces, with --generator (default: %(default)s)")
    ap.add_argument("--consistency", type=float, default=1.0,
                    help="weight of L1 between a lifted generated face shrunk back and the face (default: %(default)s)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    args = ap.parse_args(argv)
    if args.crop % (4 if args.base else 2):
        sys.exit(f"portraits train: --crop must be a multiple of {4 if args.base else 2}")
    if args.generator and not os.path.exists(args.generator):
        sys.exit(f"portraits train: --generator {args.generator} does not exist")
    if not 0 <= args.generated < 1:
        sys.exit("portraits train: --generated must be at least 0 and below 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed + int(time.time()) % 100000)
    os.makedirs(args.out, exist_ok=True)
    data = np.load(os.path.join(args.data, "images.npy"), mmap_mode="r")
    with open(os.path.join(args.data, "index.json")) as f:
        names = [e["file"] for e in json.load(f)]
    held = load_holdout(args.holdout)
    train_idx = np.array([i for i, n in enumerate(names) if n not in held])
    held_idx = np.array([i for i, n in enumerate(names) if n in held])
    if len(held_idx) < VALIDATION:
        # No holdout named: validate on a fixed slice of the end (still never trained on).
        held_idx = np.arange(len(names) - VALIDATION, len(names))
        train_idx = np.arange(0, len(names) - VALIDATION)
    size = data.shape[1]
    if args.crop > size:
        sys.exit(f"portraits train: --crop {args.crop} is larger than the photos ({size} px)")
    base = args.base
    if base and args.crop > 4 * base:
        sys.exit(f"portraits train: --crop {args.crop} is larger than the stage's output ({4 * base} px at --base {base})")
    if args.generator and not base:
        sys.exit("portraits train: --generator needs --base (the generator's size)")

    state = {"step": 0, "images": 0, "seconds": 0.0, "history": [], "sessions": []}
    net = FaceSR(args.channels, args.blocks, args.fold)
    critic = PatchCritic(args.critic_channels or 32)
    ck = None
    new_critic = False
    if args.resume:
        if not os.path.exists(args.checkpoint):
            sys.exit(f"portraits train: --resume but {args.checkpoint} does not exist")
        ck = torch.load(args.checkpoint)
        state = ck["state"]
        net = FaceSR(ck["settings"]["channels"], ck["settings"]["blocks"], int(ck["settings"].get("fold", 1)))
        if int(ck["settings"].get("base", 0)) != args.base and args.base:
            sys.exit(f"portraits train: {args.checkpoint} was trained with --base {ck['settings'].get('base', 0)}, not {args.base}")
        args.base = int(ck["settings"].get("base", 0))
        unpack(net, ck["net"])
        own_width = int(ck["settings"].get("critic_channels", 32))
        critic = PatchCritic(args.critic_channels or own_width)
        new_critic = critic.channels != own_width
        if new_critic:
            print(f"a new {critic.channels}-channel critic (the checkpoint's has {own_width})", file=sys.stderr)
        else:
            unpack(critic, ck["critic"])
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    if ck:
        unpack(ema, ck["ema"])
    opt_g = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.99))
    if ck and "opt_g" in ck:
        opt_g.load_state_dict(ck["opt_g"])
        if not new_critic:
            opt_d.load_state_dict(ck["opt_d"])
    features = DarknetFeatures(args.darknet, depth=6) if args.perceptual > 0 else None
    generator = None
    if args.generator:
        from judge_checkpoint import load_ema as load_generator
        generator, generator_images = load_generator(args.generator)
        if generator.max_res != base:
            sys.exit(f"portraits train: {args.generator} makes {generator.max_res} px faces, not --base {base}")

    settings = {"channels": net.channels, "blocks": net.blocks, "fold": net.fold, "critic_channels": critic.channels, "crop": args.crop, "batch": args.batch, "lr": args.lr,
                "perceptual": args.perceptual, "adversarial": args.adversarial, "data": args.data,
                "photo_size": int(size), "training_photos": int(len(train_idx)), "held_out": int(len(held_idx)),
                "gflop_at_128": round(gflops(net, 128), 2), "params": sum(p.numel() for p in net.parameters()),
                "base": base, **({"generator": args.generator, "generator_images": generator_images,
                                  "generated": args.generated, "consistency": args.consistency} if generator is not None else {})}
    with open(os.path.join(args.out, "settings.json"), "w") as f:
        json.dump(settings, f, indent=2)
    print(f"face stage: {settings['params']:,} params, {settings['gflop_at_128']} GFLOP at 128 -> 256 px; "
          f"{len(train_idx):,} photos at {size} px ({len(held_idx)} held out); "
          + (f"lifts a {base} px base enlarged to {2 * base} px to {4 * base} px; " if base else "x2 at the photos' size; ")
          + (f"{args.generated:.0%} of each batch {args.generator}'s faces; " if generator is not None else "")
          + f"{args.minutes:.0f} min", file=sys.stderr)

    # Validation: held-out photos, shrunk the plain way (area), so the figures compare across sessions.
    if base:
        pairs = [base_pair(data[i], base) for i in held_idx[:VALIDATION]]
        val_hr_t, val_small = to_tensor(np.stack([p[0] for p in pairs])), to_tensor(np.stack([p[1] for p in pairs]))
        val_lr_t, scale = enlarge(val_small), 4
    else:
        val_hr = np.stack([data[i] for i in held_idx[:VALIDATION]])
        val_hr = val_hr[:, : size // 2 * 2, : size // 2 * 2]
        val_small = to_tensor(np.stack([cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA)
                                        for im in val_hr]))
        val_hr_t, val_lr_t, scale = to_tensor(val_hr), val_small, 2
    val_gen = None
    if generator is not None:
        with torch.no_grad():
            val_gen = generator(torch.randn(6, generator.z_dim, generator=torch.Generator().manual_seed(1)),
                                psi=0.8).clamp(-1, 1)

    def validate():
        with torch.no_grad():
            sr = ema(val_lr_t).clamp(-1, 1)
            bic = F.interpolate(val_small, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)
            ref = detail(val_hr_t).mean()
            return {"l1": float((sr - val_hr_t).abs().mean()), "l1_bicubic": float((bic - val_hr_t).abs().mean()),
                    "detail": float(detail(sr).mean() / ref), "detail_bicubic": float(detail(bic).mean() / ref)}, sr, bic

    def save_samples():
        figures, sr, bic = validate()
        rows = []
        for i in range(6):
            row = [bic[i], sr[i], val_hr_t[i]]
            rows.append(torch.cat(row, dim=2))
        if val_gen is not None:  # the generator's own faces: bicubic, lifted, and (no original) lifted again shrunk
            with torch.no_grad():
                lifted = ema(enlarge(val_gen)).clamp(-1, 1)
                bic_gen = F.interpolate(val_gen, scale_factor=4, mode="bicubic", align_corners=False).clamp(-1, 1)
            for i in range(len(val_gen)):
                back = F.interpolate(shrink(lifted[i:i + 1], 4), scale_factor=4, mode="nearest")[0]
                rows.append(torch.cat([bic_gen[i], lifted[i], back], dim=2))
        grid = torch.cat(rows, dim=1).add(1).mul(127.5).clamp(0, 255).byte().permute(1, 2, 0).numpy()
        path = os.path.join(args.out, "samples", f"{state['step']:06d}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        state.setdefault("validation", []).append({"step": state["step"], **{k: round(v, 4) for k, v in figures.items()}})
        print(f"\nvalidation at step {state['step']}: L1 {figures['l1']:.4f} (bicubic {figures['l1_bicubic']:.4f}), "
              f"detail {figures['detail']:.2f} of the originals (bicubic {figures['detail_bicubic']:.2f}); {path}",
              file=sys.stderr)

    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "from_step": state["step"]}
    state["sessions"].append(session)
    stop = StopFlag()

    def save_checkpoint():
        session["to_step"] = state["step"]
        tmp = args.checkpoint + ".tmp"
        os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)
        torch.save({"format": "portraits-face-sr-checkpoint/1", "net": pack(net), "ema": pack(ema), "critic": pack(critic),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "state": state, "settings": settings}, tmp)
        os.replace(tmp, args.checkpoint)

    n_generated = int(round(args.batch * args.generated)) if generator is not None else 0

    def base_batch(n):
        """n pairs of aligned crops: the stage's input (2 x base scale) and the photo (4 x base)."""
        idx = train_idx[rng.randint(0, len(train_idx), n)]
        hr, small = [], []
        for i in idx:
            photo = data[i] if rng.rand() < 0.5 else data[i][:, ::-1]
            h, s_ = base_pair(np.ascontiguousarray(photo), base, rng)
            hr.append(h)
            small.append(s_)
        corners = crop_corners(n)
        return aligned_crops(enlarge(to_tensor(np.stack(small))), corners, 2), aligned_crops(to_tensor(np.stack(hr)), corners, 1)

    def crop_corners(n):
        """Top-left corners of crops at the output's scale, multiples of 4 so they align at the base's."""
        cells = (4 * base - args.crop) // 4 + 1
        return [(4 * int(a), 4 * int(b)) for a, b in rng.randint(0, cells, (n, 2))]

    def aligned_crops(images, corners, smaller):
        """The crops at `corners` (output scale) of pictures `smaller` times smaller than the output."""
        c = args.crop // smaller
        return torch.stack([images[k, :, y // smaller:y // smaller + c, x // smaller:x // smaller + c]
                            for k, (y, x) in enumerate(corners)])

    def generated_batch(n):
        """n crops of the generator's faces as the stage's input, and the same crops at the base's own size."""
        with torch.no_grad():
            z = torch.randn(n, generator.z_dim, generator=torch_rng)
            psi = float(torch.empty(()).uniform_(0.5, 1.0, generator=torch_rng))  # one truncation per batch
            faces = generator(z, psi=psi).clamp(-1, 1)
        flip = torch.rand(n, generator=torch_rng) < 0.5
        faces = torch.where(flip.view(-1, 1, 1, 1), faces.flip(3), faces)
        corners = crop_corners(n)
        return aligned_crops(enlarge(faces), corners, 2), aligned_crops(faces, corners, 4)

    torch_rng = torch.Generator().manual_seed(args.seed + int(time.time()) % 100000)

    def batch():
        if base:
            return base_batch(args.batch - n_generated)
        idx = train_idx[rng.randint(0, len(train_idx), args.batch)]
        hr, lr = [], []
        for i in idx:
            y, x = rng.randint(0, size - args.crop + 1, 2)
            crop = np.ascontiguousarray(data[i, y:y + args.crop, x:x + args.crop])
            if rng.rand() < 0.5:
                crop = np.ascontiguousarray(crop[:, ::-1])
            hr.append(crop)
            lr.append(degrade(crop, rng))
        return to_tensor(np.stack(lr)), to_tensor(np.stack(hr))

    def perceptual(a, b):
        fa, fb = features(a.add(1).mul(0.5)), features(b.add(1).mul(0.5))
        return sum(F.l1_loss(x, y) for x, y in zip(fa, fb)) / len(fa)

    t0 = time.time()
    budget = args.minutes * 60
    sample_due, checkpoint_due = Every(args.sample_minutes), Every(args.checkpoint_minutes)
    prog = Progress(budget, "train", "s")
    steps_this_call = 0
    if state["step"] == 0:
        save_samples()
    while not stop.now and time.time() - t0 < budget:
        if args.max_steps and steps_this_call >= args.max_steps:
            break
        step_t0 = time.time()
        lr_img, hr_img = batch()
        adversarial = args.adversarial > 0 and state["step"] >= args.adversarial_after
        sr = net(lr_img)
        # The generator's faces have no original: only the critic and their own picture (shrunk back) guide them.
        gen_lr, gen_base = generated_batch(n_generated) if n_generated else (None, None)
        sr_gen = net(gen_lr) if gen_lr is not None else None
        fakes = sr if sr_gen is None else torch.cat([sr, sr_gen])
        loss_d = torch.zeros(())
        if adversarial:
            loss_d = F.softplus(critic(fakes.detach())).mean() + F.softplus(-critic(hr_img)).mean()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        loss_pix = F.l1_loss(sr, hr_img)
        loss_perc = perceptual(sr, hr_img) if features is not None else torch.zeros(())
        loss_adv = F.softplus(-critic(fakes)).mean() if adversarial else torch.zeros(())
        loss_keep = F.l1_loss(shrink(sr_gen, 4), gen_base) if sr_gen is not None else torch.zeros(())
        loss = loss_pix + args.perceptual * loss_perc + args.adversarial * loss_adv + args.consistency * loss_keep
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.lerp_(p, 1 - 0.999)

        state["step"] += 1
        steps_this_call += 1
        state["images"] += args.batch
        dt = time.time() - step_t0
        state["seconds"] += dt
        prog.update(dt, f"step {state['step']} pix {float(loss_pix):.4f} perc {float(loss_perc):.3f} "
                        f"adv {float(loss_adv):.3f} D {float(loss_d):.3f}"
                        + (f" keep {float(loss_keep):.4f}" if sr_gen is not None else ""))
        if state["step"] % 10 == 0:
            state["history"].append({"step": state["step"], "pix": float(loss_pix), "perc": float(loss_perc),
                                     "adv": float(loss_adv), "d": float(loss_d), "keep": float(loss_keep),
                                     "ms_per_step": round(dt * 1000, 1)})
        if sample_due.due():
            save_samples()
        if checkpoint_due.due():
            save_checkpoint()

    prog.close()
    save_checkpoint()
    save_samples()
    print(f"stopped: {state['step']} steps ({state['seconds'] / 3600:.2f} h in all); checkpoint {args.checkpoint} "
          f"({os.path.getsize(args.checkpoint) / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
