"""Find named directions in a generator's latent space for the tablet's sliders; writes them to its manifest.

Two kinds, both linear directions d added to a latent: z' = z + value * d, value in [-1, 1]
(each stored vector is already scaled so that +-1 is a strong but still face-like change):

  GANSpace (Haerkoenen et al. 2020, "GANSpace: Discovering Interpretable GAN Controls"):
      sample many z, take the generator's first activations (after the fc / 4x4 block; for a
      style generator its W space, the mapping network's output, as GANSpace does), PCA them, and regress z on the principal-component coordinates, which carries each
      component back to a latent direction. Components are unnamed by nature; each is
      named here by the image property it changes most (brightness, warmth, background,
      left/right balance, contrast, hair tone), measured on faces rendered along it.
  age: ridge-regress the UTKFace age labels on the critic trunk's features of real photos,
      predict the age of many generated faces, and regress that predicted age on z.

The weights come from the training run's checkpoint (--run, default: the compact checkpoint a
style model's manifest names, else the run it names); before anything else the checkpoint must reproduce the model's reference.json,
so directions are never fitted to weights other than the ones the ONNX file holds.

  portraits directions --model models/default-face --data data/utk128
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from model_files import read_manifest, write_manifest
from networks import Critic, Generator, TrunkFeatures, recalibrate_batchnorm
from progress import Progress

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# Slider +-1 moves this many standard deviations of z along a unit direction (z ~ N(0, I)).
SIGMAS = 3.0
# The age slider's full swing aims at about this many years either way, within SIGMAS.
AGE_SWING_YEARS = 25.0
BATCH = 250

# Image properties a component may be named after: key, what it measures, ends of the slider.
ATTRIBUTES = [
    ("light", "overall brightness of the face", ("darker", "brighter")),
    ("warmth", "colour temperature of the face", ("cooler", "warmer")),
    ("background", "brightness of the background", ("dark background", "light background")),
    ("sideways", "left/right balance (head turn or side light)", ("left", "right")),
    ("contrast", "contrast within the face", ("softer", "crisper")),
    ("hair", "tone at the top of the head", ("darker hair", "lighter hair")),
]


def fail(msg: str):
    sys.exit(f"portraits directions: {msg}")


def find_checkpoint(model_dir: str, manifest: dict, run: str, checkpoint: str = "") -> str:
    """--checkpoint, else --run, else the compact checkpoint a style model's manifest records, else
    the run it records (relative to the repository or the current folder)."""
    if checkpoint:
        return checkpoint if os.path.exists(checkpoint) else fail(f"{checkpoint} not found")
    compact = (manifest.get("training") or {}).get("checkpoint")
    if not run and compact:
        for path in (compact, os.path.join(REPO, compact)):
            if os.path.exists(path):
                return path
    recorded = (manifest.get("training") or {}).get("run")
    candidates = [run] if run else [p for p in (recorded, recorded and os.path.join(REPO, recorded)) if p]
    for c in candidates:
        path = os.path.join(c, "checkpoint.pt")
        if os.path.exists(path):
            return path
    if run:
        fail(f"{os.path.join(run, 'checkpoint.pt')} not found")
    fail(f"the manifest of {model_dir} names training run {recorded!r}, which has no checkpoint.pt here; "
         "pass --run RUN_DIR (the folder `portraits export --run` was given)")


class StyleAsPlain(nn.Module):
    """A style generator (style_networks.py) seen as the functions here see a plain one: z -> image
    at truncation 1 without mixing, GANSpace's features in its W space (the mapping network's
    output, as GANSpace does for StyleGAN), and the shipped model's outputs for reference.json."""

    def __init__(self, g):
        super().__init__()
        from export_style import StyleExport
        self.shipped = StyleExport(g)
        self.layers = float(g.num_layers())

    def forward(self, z):
        n = z.shape[0]
        return self.shipped(z, torch.ones(n, 1), z, torch.full((n, 1), self.layers))

    def early(self, z):
        return self.shipped.g.mapping(z)

    def reference_output(self, ref: dict):
        t = lambda k: torch.tensor(ref[k], dtype=torch.float32)
        return self.shipped(t("z"), t("psi"), t("z_mix"), t("mix_from"))


def load_style_networks(ckpt_path: str, manifest: dict):
    """The compact style checkpoint (models/checkpoints/style-face.pt and its .train.pt, which holds the critic)."""
    import style_checkpoint
    from export_style import load_critic, load_generator
    ck = style_checkpoint.load(ckpt_path, map_location="cpu")
    if "D" not in ck:
        fail(f"{style_checkpoint.companion(ckpt_path)} (the critic) is missing beside {ckpt_path}")
    gen = manifest.get("generator") or fail("the manifest has no generator section")
    res = int(ck["state"]["res"])
    if res != gen["resolution"]:
        fail(f"{ckpt_path} is a {res} px style generator but the manifest says {gen['resolution']} px")
    g = load_generator(ck)
    return StyleAsPlain(g).eval(), load_critic(ck), g.z_dim, res


def load_networks(ckpt_path: str, manifest: dict):
    ck = torch.load(ckpt_path, map_location="cpu")
    if "state" in ck and "G_ema" in ck:
        return load_style_networks(ckpt_path, manifest)
    settings = ck["settings"]
    latent, res = int(settings["latent"]), int(settings["resolution"])
    gen = manifest.get("generator") or fail("the manifest has no generator section")
    if (latent, res) != (gen["latentSize"], gen["resolution"]):
        fail(f"{ckpt_path} is a {latent}-d / {res} px model but the manifest says {gen['latentSize']}-d / "
             f"{gen['resolution']} px; pass the right --run")
    G = Generator(latent, res)
    D = Critic(res)
    try:
        G.load_state_dict(ck["G_ema"])
        D.load_state_dict(ck["D"])
    except RuntimeError as err:
        fail(f"{ckpt_path} does not fit models/tools/networks.py (was it trained by another version?): {err}")
    return G.eval(), D.eval(), latent, res


def reference_difference(G: Generator, ref: dict) -> float:
    out = G.reference_output(ref) if hasattr(G, "reference_output") else G(torch.tensor(ref["z"], dtype=torch.float32))
    out = out.clamp(-1, 1).flatten().double()
    got = out[torch.tensor(ref["image"]["indices"])].numpy()
    return float(np.abs(got - np.array(ref["image"]["values"])).max())


def check_reference(G: Generator, model_dir: str) -> float:
    """The checkpoint must be the one the ONNX file was exported from: same outputs as reference.json.
    Exports re-estimate the EMA generator's batch-norm statistics (networks.recalibrate_batchnorm,
    seeded, so repeatable); older exports did not, so both are tried."""
    path = os.path.join(model_dir, "reference.json")
    if not os.path.exists(path):
        fail(f"{path} not found; it is written by `portraits export` and proves which weights the model holds")
    with open(path) as f:
        ref = json.load(f)
    diff = reference_difference(G, ref)
    if diff > 1e-3 and not isinstance(G, StyleAsPlain):  # a style export is always recalibrated (export_style.load_generator)
        recalibrate_batchnorm(G)
        G.eval()
        diff = min(diff, reference_difference(G, ref))
    if diff > 1e-3:
        fail(f"the checkpoint's generator differs from {model_dir}/generator.onnx (max difference {diff:.3g} on "
             "reference.json); pass the --run the model was exported from")
    return diff


def batched(fn, x: torch.Tensor, progress: Progress = None):
    outs = []
    for i in range(0, x.shape[0], BATCH):
        outs.append(fn(x[i:i + BATCH]))
        if progress:
            progress.update(min(BATCH, x.shape[0] - i))
    return torch.cat(outs)


def early_activations(G: Generator, z: torch.Tensor) -> torch.Tensor:
    """The first block's output (fc -> 4x4 -> batch norm -> ReLU), flattened: GANSpace's feature space;
    for a style generator, its W space."""
    if isinstance(G, StyleAsPlain):
        return G.early(z)
    seen = []
    hook = G.bn4.register_forward_hook(lambda _m, _i, out: seen.append(F.relu(out)))
    try:
        G(z, res=4)  # only the 4x4 stage runs at res 4; the hook catches the block's output
    finally:
        hook.remove()
    return seen[0].flatten(1)


def to_unit(img: torch.Tensor) -> torch.Tensor:
    return (img.clamp(-1, 1) + 1) / 2


def attributes(img: torch.Tensor) -> torch.Tensor:
    """[N, 3, R, R] in [0, 1] -> [N, len(ATTRIBUTES)], in ATTRIBUTES order."""
    r = img.shape[-1]
    lum = 0.299 * img[:, 0] + 0.587 * img[:, 1] + 0.114 * img[:, 2]
    c0, c1 = r // 4, r - r // 4
    centre = lum[:, c0:c1, c0:c1]
    ring = max(2, r // 8)
    border = torch.cat([lum[:, :ring].flatten(1), lum[:, -ring:].flatten(1),
                        lum[:, ring:-ring, :ring].flatten(1), lum[:, ring:-ring, -ring:].flatten(1)], 1)
    warm = (img[:, 0] - img[:, 2])[:, c0:c1, c0:c1]
    half = r // 2
    side = lum[:, c0:c1, half:c1].mean((1, 2)) - lum[:, c0:c1, c0:half].mean((1, 2))
    top = lum[:, : max(2, r // 6), c0:c1]
    return torch.stack([centre.mean((1, 2)), warm.mean((1, 2)), border.mean(1), side,
                        centre.flatten(1).std(1), top.mean((1, 2))], 1)


def trunk_features(trunk: TrunkFeatures, img: torch.Tensor) -> torch.Tensor:
    """Every block's channels averaged over space (texture), plus the coarsest map at 2x2 (layout)."""
    maps = trunk(img)
    return torch.cat([m.mean((2, 3)) for m in maps] + [F.adaptive_avg_pool2d(maps[-1], 2).flatten(1)], 1)


class Ridge:
    """Ridge regression on standardised features, one eigendecomposition for every lambda."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-6
        xs = (x - self.mu) / self.sd
        self.ym = y.mean()
        self.evals, self.evecs = np.linalg.eigh(xs.T @ xs)
        self.proj = self.evecs.T @ (xs.T @ (y - self.ym))

    def predictor(self, lam: float):
        w = self.evecs @ (self.proj / (self.evals + lam))
        return lambda q: ((q - self.mu) / self.sd) @ w + self.ym


def load_real(data_dir: str, res: int, count: int, rng):
    images = os.path.join(data_dir, "images.npy")
    index = os.path.join(data_dir, "index.json")
    for p in (images, index):
        if not os.path.exists(p):
            fail(f"{p} not found; --data must be a folder made by `portraits dataset` from UTKFace (it has the ages)")
    with open(index) as f:
        entries = json.load(f)
    ages = np.array([e.get("age", -1) if isinstance(e.get("age"), (int, float)) else -1 for e in entries], dtype=np.float64)
    labelled = np.flatnonzero(ages >= 0)
    if labelled.size < 500:
        fail(f"{index} has age labels for {labelled.size} photos; the age direction needs at least 500 (UTKFace names carry them)")
    arr = np.load(images, mmap_mode="r")
    if arr.shape[0] != len(entries):
        fail(f"{images} has {arr.shape[0]} rows but {index} has {len(entries)} entries")
    pick = np.sort(rng.choice(labelled, size=min(count, labelled.size), replace=False))
    x = torch.from_numpy(np.ascontiguousarray(arr[pick])).permute(0, 3, 1, 2).float()
    if x.shape[2] != res:
        # The same resampling as training (train.py load_data): area, then rounding to 8 bits.
        x = F.interpolate(x, size=(res, res), mode="area").round()
    return x.div_(127.5).sub_(1.0), ages[pick]


def fit_age(G, D, latent, res, data_dir, args, rng, gen):
    trunk = TrunkFeatures(D).eval()
    real, ages = load_real(data_dir, res, args.photos, rng)
    p = Progress(real.shape[0], "critic features of real photos", "img")
    feats = batched(lambda b: trunk_features(trunk, b), real, p).numpy().astype(np.float64)
    p.close()
    order = rng.permutation(len(ages))
    hold = order[: len(order) // 5]
    train = order[len(order) // 5:]
    baseline = float(np.abs(ages[hold] - ages[train].mean()).mean())
    best = None
    fit = Ridge(feats[train], ages[train])
    for lam in (1.0, 10.0, 100.0, 1e3, 1e4, 1e5):
        mae = float(np.abs(fit.predictor(lam)(feats[hold]) - ages[hold]).mean())
        if best is None or mae < best[1]:
            best = (lam, mae)
    lam, mae = best
    print(f"age from critic features: holdout MAE {mae:.1f} years (guessing the mean: {baseline:.1f}), ridge lambda {lam:g}",
          file=sys.stderr)
    if mae > baseline * 0.9:
        fail(f"the critic's features barely predict age (MAE {mae:.1f} vs {baseline:.1f} for the mean); "
             "is this the critic trained with this generator?")
    predict = Ridge(feats, ages).predictor(lam)

    z = torch.randn(args.faces, latent, generator=gen)
    p = Progress(z.shape[0], "predicted age of generated faces", "img")

    def age_and_look(b):
        img = G(b).clamp(-1, 1)
        age = torch.from_numpy(predict(trunk_features(trunk, img).numpy().astype(np.float64)))
        return torch.cat([age[:, None], attributes(to_unit(img))[:, :2].double()], 1)  # age, light, warmth

    out = batched(age_and_look, z, p).numpy()
    p.close()
    pred, looks = out[:, 0], out[:, 1:]
    zn = z.numpy().astype(np.float64)
    design = np.hstack([zn, np.ones((len(zn), 1))])
    coef, *_ = np.linalg.lstsq(design, pred, rcond=None)
    w = coef[:-1]
    fitted = design @ coef
    r2 = 1 - float(((pred - fitted) ** 2).sum() / ((pred - pred.mean()) ** 2).sum())
    # In UTKFace, age goes with lighting and skin tone more than it should; the latent directions
    # that predict face brightness and warmth are projected out, so "older" does not mean "darker".
    look_dirs, *_ = np.linalg.lstsq(design, looks, rcond=None)
    basis, _ = np.linalg.qr(look_dirs[:-1])
    before = w.copy()
    w = w - basis @ (basis.T @ w)
    kept = float(np.linalg.norm(w) / np.linalg.norm(before))
    years_per_sigma = float(np.linalg.norm(w))
    unit = w / years_per_sigma
    scale = min(SIGMAS, AGE_SWING_YEARS / years_per_sigma)
    vector = unit * scale

    # Check on fresh faces that the direction does what it says, through the whole pipeline.
    zt = torch.randn(200, latent, generator=gen)
    d = torch.from_numpy(vector).float()
    age_at = lambda zz: predict(trunk_features(trunk, G(zz).clamp(-1, 1)).numpy().astype(np.float64))
    swing = float((age_at(zt + d) - age_at(zt - d)).mean() / 2)
    print(f"age direction: {years_per_sigma:.1f} predicted years per latent sd (R^2 {r2:.2f} of predicted age on z; "
          f"{kept * 100:.0f}% of it kept after removing brightness and warmth); "
          f"the slider's +1 end adds {swing:+.1f} years on average", file=sys.stderr)
    if swing < 2:
        fail(f"the age direction changes predicted age by only {swing:+.1f} years; the model may be too young to have one")
    entry = {
        "vector": [round(float(v), 5) for v in vector],
        "description": f"Fitted to UTKFace ages, with brightness and warmth held: the slider's ends are about "
                       f"{swing:.0f} years younger or older.",
        "ends": ["younger", "older"],
    }
    info = {"holdoutMaeYears": round(mae, 2), "baselineMaeYears": round(baseline, 2), "ridgeLambda": lam,
            "photos": int(len(ages)), "faces": int(args.faces), "r2OnLatent": round(r2, 3),
            "yearsPerSigma": round(years_per_sigma, 2), "swingYears": round(swing, 1),
            "keptAfterRemovingBrightnessAndWarmth": round(kept, 3)}
    return entry, info


def ganspace(G, latent, args, gen):
    z = torch.randn(args.samples, latent, generator=gen)
    p = Progress(z.shape[0], "early activations", "z")
    acts = batched(lambda b: early_activations(G, b), z, p)
    p.close()
    q = min(args.candidates + 10, acts.shape[1], acts.shape[0])
    torch.manual_seed(args.seed)
    _u, s, v = torch.pca_lowrank(acts, q=q, center=True, niter=6)
    k = args.candidates
    total_var = float(acts.var(0, unbiased=True).sum())
    explained = (s[:k] ** 2 / (acts.shape[0] - 1) / total_var).tolist()
    coords = (acts - acts.mean(0)) @ v[:, :k]
    # GANSpace for networks without a style space: regress z on the PCA coordinates (U = argmin sum |U x - z|^2).
    u, *_ = torch.linalg.lstsq(coords, z)
    dirs = F.normalize(u, dim=1)

    # Render faces along each component and measure what changes, in units of the property's natural spread.
    zb = torch.randn(args.probe, latent, generator=gen)
    natural = attributes(to_unit(G(zb)))
    spread = natural.std(0) + 1e-6
    effects = torch.zeros(k, len(ATTRIBUTES))
    p = Progress(k, "naming components", "pc")
    for i in range(k):
        step = dirs[i] * 2.0
        delta = attributes(to_unit(G(zb + step))) - attributes(to_unit(G(zb - step)))
        effects[i] = delta.mean(0) / (2 * spread)
        p.update()
    p.close()

    chosen, component = {}, {}
    used_pc, used_attr = set(), set()
    pairs = sorted(((abs(float(effects[i, a])), i, a) for i in range(k) for a in range(len(ATTRIBUTES))), reverse=True)
    for size, i, a in pairs:
        if len(chosen) >= args.components or size < 0.25:
            break
        if i in used_pc or a in used_attr:
            continue
        used_pc.add(i)
        used_attr.add(a)
        key, about, ends = ATTRIBUTES[a]
        sign = 1.0 if effects[i, a] > 0 else -1.0
        vector = dirs[i] * sign * SIGMAS
        chosen[key] = {
            "vector": [round(float(x), 5) for x in vector],
            "description": f"GANSpace component {i + 1} ({explained[i] * 100:.1f}% of the variance of the {'W space' if isinstance(G, StyleAsPlain) else 'first layer'}); "
                           f"changes the {about} most ({size:.1f} sd per 2 latent sd).",
            "ends": list(ends),
        }
        component[key] = i
        print(f"component {i + 1} ({explained[i] * 100:.1f}%): {key} ({size:.2f} sd)", file=sys.stderr)
    ordered = dict(sorted(chosen.items(), key=lambda kv: component[kv[0]]))
    layer = "W space (the mapping network's output)" if isinstance(G, StyleAsPlain) else "first block (fc -> 4x4, batch norm, ReLU)"
    info = {"samples": int(args.samples), "layer": layer,
            "explainedVariance": [round(e, 4) for e in explained],
            "named": {name: component[name] + 1 for name in ordered}}
    return ordered, info


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits directions", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="generator model folder (made by `portraits export`)")
    ap.add_argument("--data", required=True, help="the UTKFace-curated training set (images.npy + index.json with ages)")
    ap.add_argument("--run", default="", help="training run folder with checkpoint.pt (default: the one the manifest names)")
    ap.add_argument("--checkpoint", default="",
                    help="a style model's compact checkpoint (default: the one its manifest names, e.g. models/checkpoints/style-face.pt)")
    ap.add_argument("--samples", type=int, default=10000, help="latents for the PCA (default: %(default)s)")
    ap.add_argument("--candidates", type=int, default=12,
                    help="principal components considered for naming (default: %(default)s)")
    ap.add_argument("--components", type=int, default=5,
                    help="named GANSpace directions to keep at most (default: %(default)s)")
    ap.add_argument("--probe", type=int, default=160,
                    help="faces rendered per component to name it (default: %(default)s)")
    ap.add_argument("--photos", type=int, default=8000,
                    help="labelled real photos for the age regressor (default: %(default)s)")
    ap.add_argument("--faces", type=int, default=6000,
                    help="generated faces whose predicted age is regressed on z (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: %(default)s)")
    args = ap.parse_args(argv)

    torch.set_num_threads(max(1, args.threads))
    torch.set_grad_enabled(False)
    model_dir = args.model.rstrip("/")
    manifest = read_manifest(model_dir)
    started = time.time()
    ckpt = find_checkpoint(model_dir, manifest, args.run, args.checkpoint)
    G, D, latent, res = load_networks(ckpt, manifest)
    diff = check_reference(G, model_dir)
    print(f"{ckpt} reproduces {model_dir}/reference.json (max difference {diff:.2g})", file=sys.stderr)
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    directions, pca_info = ganspace(G, latent, args, gen)
    age, age_info = fit_age(G, D, latent, res, args.data, args, rng, gen)
    directions = {"age": age, **directions}

    manifest["directions"] = directions
    metrics = manifest.setdefault("metrics", {})
    metrics["directions"] = {"checkpoint": os.path.relpath(ckpt, REPO), "ganspace": pca_info, "age": age_info,
                             "slider": f"+-1 = at most {SIGMAS:g} latent standard deviations",
                             "seconds": round(time.time() - started, 1)}
    write_manifest(model_dir, manifest)
    print(json.dumps({"model": model_dir, "directions": list(directions)}), flush=True)


if __name__ == "__main__":
    main()
