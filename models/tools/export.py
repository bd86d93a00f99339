"""Export a training run to ONNX model folders that the server, the pages and the dream passes load.

From a checkpoint this writes two folders, one model each (the registry reads
models/*/manifest.json and one manifest describes one network):
  OUT/            generator.onnx  z [N, latent] -> image [N, 3, R, R] in [-1, 1] (EMA weights, clamped in the graph)
                  manifest.json, reference.json (torch outputs that any runtime must reproduce),
                  loss.png, README.md (the model card; `portraits evaluate` adds the quality evidence)
  OUT-critic/     critic.onnx     image [N, 3, H, W] in [-1, 1] -> every trunk block's feature map
                  (feat64 ... feat4 at a 64 px input), for the dream passes; manifest.json, reference.json
Both are checked with onnx.checker and must stay under 20 MB per file.

The architecture comes from the checkpoint: `--run RUN` reads RUN/checkpoint.pt of the progressive
trainer (train.py); `--checkpoint FILE` reads that file, which may also be the style trainer's
compact checkpoint (train_style.py, e.g. models/checkpoints/style-face.pt). A style generator gets
three more inputs, psi, z_mix and mix_from (truncation and style mixing, see export_style.py), a
"style" section in its manifest, and truncation.png and mixing.png beside samples.png.
"""
import argparse
import datetime
import json
import math
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

import export_style
import style_checkpoint
from model_card import write_card
from model_files import MAX_FILE_BYTES, UTKFACE, describe_files, write_manifest
from networks import Critic, Generator, TrunkFeatures, count_params, recalibrate_batchnorm
from plots import save_curves

OPSET = 13
# torch 1.13 warns about constant shape inference on every export; the checker below is the real test.
warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")

# Friendly names for the critic's feature maps, coarse meaning from fine to coarse.
LAYER_WORDS = [
    ("edges", "colour edges and fine strokes"),
    ("textures", "skin, hair and fabric textures"),
    ("parts", "eyes, mouths, noses and their parts"),
    ("features", "whole facial features and their arrangement"),
    ("faces", "face-level structure: pose, light, who it looks like"),
]


class ClampedGenerator(nn.Module):
    """The generator as shipped: its raw output can overshoot [-1, 1] slightly; the range is a promise."""

    def __init__(self, g: Generator):
        super().__init__()
        self.g = g

    def forward(self, z):
        return self.g(z).clamp(-1.0, 1.0)


def fail(msg: str):
    sys.exit(f"portraits export: {msg}")


def summary(t: torch.Tensor, samples: int = 97) -> dict:
    """Shape, moments and evenly spaced values: enough to catch any runtime that computes differently."""
    flat = t.detach().flatten().double()
    idx = np.linspace(0, flat.numel() - 1, samples).round().astype(int).tolist()
    return {"shape": list(t.shape), "mean": float(flat.mean()), "std": float(flat.std()),
            "indices": idx, "values": [float(flat[i]) for i in idx]}


def test_pattern(n: int, size: int) -> torch.Tensor:
    """A smooth image in [-0.8, 0.8] that both Python and the Node test can compute: sin(0.1x + 0.2y + c + k)."""
    k = torch.arange(n, dtype=torch.float64).view(n, 1, 1, 1)
    c = torch.arange(3, dtype=torch.float64).view(1, 3, 1, 1)
    y = torch.arange(size, dtype=torch.float64).view(1, 1, size, 1)
    x = torch.arange(size, dtype=torch.float64).view(1, 1, 1, size)
    return (0.8 * torch.sin(0.1 * x + 0.2 * y + c + k)).float()


def resolve_data(settings: dict, override: str):
    """The training set folder, for its size and provenance; settings hold the path as typed at train time."""
    candidates = [override] if override else [settings.get("data", "")]
    if not override and settings.get("data") and not os.path.isabs(settings["data"]):
        # Training may have been started from models/tools (relative paths like ../../data/x).
        candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), settings["data"]))
    for c in candidates:
        if c and os.path.isdir(c):
            return os.path.abspath(c)
    return None


def data_terms(data_dir, args, n_images: int) -> dict:
    """UTKFace is recognised by its file-name labels; any other set must state its terms."""
    if args.data_terms:
        return {"name": args.data_name or "unnamed data set", "images": n_images, "terms": args.data_terms}
    looks_utk = False
    if data_dir:
        report = os.path.join(data_dir, "report.json")
        if os.path.exists(report):
            with open(report) as f:
                looks_utk = "utkface" in json.load(f).get("source", "").lower()
        index = os.path.join(data_dir, "index.json")
        if not looks_utk and os.path.exists(index):
            with open(index) as f:
                first = json.load(f)[:50]
            looks_utk = bool(first) and all({"age", "gender", "race"} <= set(e) for e in first)
    if not looks_utk:
        fail("cannot tell what the training data was, so cannot state the terms the model inherits; "
             "pass --data-name NAME --data-terms 'TERMS' (or --data DIR of a UTKFace-curated set)")
    return {**UTKFACE, "images": n_images}


def export_onnx(module: nn.Module, example, path: str, inputs, outputs, dynamic_axes) -> None:
    with torch.no_grad():
        torch.onnx.export(module, example, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    size = os.path.getsize(path)
    if size >= MAX_FILE_BYTES:
        fail(f"{path} is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    print(f"wrote {path} ({size / 1e6:.2f} MB, opset {OPSET}, checked)", file=sys.stderr)


class Loaded:
    """What one architecture contributes to the export; the rest (folders, licence, critic) is shared."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def load_progressive(ck: dict, ckpt_path: str, args, n_images: int) -> Loaded:
    settings, state = ck["settings"], ck["state"]
    latent, res = int(settings["latent"]), int(settings["resolution"])
    G = Generator(latent, res)
    G.load_state_dict(ck["G_ema"])
    recalibrate_batchnorm(G)
    D = Critic(res)
    D.load_state_dict(ck["D"])
    G.eval(), D.eval()
    by_time = settings.get("minutes", 0) > 0
    budget = settings["minutes"] * 60 if by_time else settings["kimg"] * 1000
    complete = state.get("wall_seconds") is not None or state["used"] >= budget or \
        bool(settings.get("max_steps") and state["step"] >= settings["max_steps"])
    if not complete:
        print(f"warning: {ckpt_path} is from an unfinished run ({state['used'] / budget * 100:.0f}% of its budget, "
              f"step {state['step']}); the manifest records training.complete = false", file=sys.stderr)
    z_ref = torch.randn(3, latent, generator=torch.Generator().manual_seed(7))
    return Loaded(
        generator=ClampedGenerator(G).eval(), g_params=count_params(G), critic=D, latent=latent, res=res,
        input_names=["z"], example=(torch.randn(2, latent),), reference={"z": z_ref},
        manifest_inputs=[{"name": "z", "dims": ["N", latent], "dtype": "float32",
                          "description": "standard-normal latent; seeds map to latents with common/latent.ts seedToLatent"}],
        generator_extra={}, name=f"Face GAN {res} px",
        description=f"Progressive GAN generator ({count_params(G):,} parameters, EMA weights) trained on "
                    f"{n_images:,} curated face photos; makes {res}x{res} portraits of people who do not exist.",
        training={"run": os.path.relpath(os.path.abspath(args.run or os.path.dirname(ckpt_path))),
                  "steps": state["step"], "imagesShown": state["images"],
                  "wallSeconds": state.get("wall_seconds") or (round(state["used"], 1) if by_time else None),
                  "complete": complete},
        figures=lambda folder: None)


def load_style(ck: dict, ckpt_path: str, args, n_images: int) -> Loaded:
    G = export_style.load_generator(ck)
    D = export_style.load_critic(ck)
    resolutions = export_style.layer_resolutions(G)
    groups = export_style.layer_groups(resolutions)
    gen = export_style.StyleExport(G).eval()
    complete = bool(args.training_complete)
    if not complete:
        print(f"note: {ckpt_path} is a style checkpoint, whose training spans sessions without a fixed budget; "
              "the manifest records training.complete = false (pass --training-complete once it is done)",
              file=sys.stderr)
    settings = ck["settings"]
    return Loaded(
        generator=gen, g_params=export_style.count_params(G), critic=D, latent=G.z_dim, res=G.max_res,
        input_names=["z", "psi", "z_mix", "mix_from"], example=export_style.example_inputs(G),
        reference=export_style.reference_inputs(G, groups),
        manifest_inputs=export_style.manifest_inputs(G.z_dim, G.num_layers()),
        generator_extra={"style": export_style.style_section(G, groups, resolutions)},
        name=f"Style face GAN {G.max_res} px", description=export_style.describe(G, settings),
        training={"run": settings.get("out"), **export_style.training_record(ck, os.path.relpath(ckpt_path), complete)},
        figures=lambda folder: export_style.save_figures(gen, groups, folder))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="progressive training run folder (holds checkpoint.pt, settings.json)")
    source.add_argument("--checkpoint", help="a checkpoint file: RUN/checkpoint.pt, a style checkpoint such as "
                                             "models/checkpoints/style-face.pt, or a face stage checkpoint "
                                             "(models/checkpoints/face-sr.pt; see export_face_sr.py) "
                                             "(the architecture is read from it)")
    ap.add_argument("--out", required=True, help="generator model folder, e.g. models/default-face")
    ap.add_argument("--id", default="", help="model id (default: the --out folder's name)")
    ap.add_argument("--critic-out", default="", help="critic model folder (default: OUT-critic)")
    ap.add_argument("--face", default="",
                    help="generators: the face stage model id the server lifts its faces with (manifest related.face; "
                         "a folder beside --out, e.g. face-sr; default: none)")
    ap.add_argument("--data", default="",
                    help="the training set folder, if it moved since training (default: the one the run recorded)")
    ap.add_argument("--data-name", default="",
                    help="name of a training set that is not UTKFace, with --data-terms (default: UTKFace, recognised "
                         "by its labels)")
    ap.add_argument("--data-terms", default="", help="terms of a training set that is not UTKFace (default: UTKFace's)")
    ap.add_argument("--max-input", type=int, default=128,
                    help="face stage checkpoints: the largest input side the server runs it on, px (default: %(default)s)")
    ap.add_argument("--training-complete", action="store_true",
                    help="style checkpoints: training is finished (they carry no budget, so otherwise the manifest "
                         "records training.complete = false)")
    args = ap.parse_args(argv)

    ckpt_path = args.checkpoint or os.path.join(args.run, "checkpoint.pt")
    if not os.path.exists(ckpt_path):
        fail(f"{ckpt_path} not found; train first with `portraits train --data DIR --out {args.run or 'RUN'}`")
    out = args.out.rstrip("/")
    model_id = args.id or os.path.basename(out)
    critic_out = (args.critic_out or out + "-critic").rstrip("/")
    critic_id = os.path.basename(critic_out)
    if args.face and not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(out)), args.face, "manifest.json")):
        fail(f"--face {args.face}: no face stage model folder {args.face} beside {out} (export the face stage first)")
    torch.set_grad_enabled(False)

    # Before loading: a trainer that is still running may replace the file meanwhile (atomically).
    ckpt_time = datetime.datetime.fromtimestamp(os.path.getmtime(ckpt_path), datetime.timezone.utc)
    if args.checkpoint:
        import export_face_sr  # here, not at the top: it imports this module's helpers
        peek = torch.load(ckpt_path, map_location="cpu")
        if export_face_sr.is_face_sr_checkpoint(peek):
            return export_face_sr.main(argv if argv is not None else sys.argv[1:], ck=peek, ckpt_path=ckpt_path)
    ck = style_checkpoint.load(ckpt_path, map_location="cpu")  # a style checkpoint's critic is in its companion file
    style = export_style.is_style_checkpoint(ck)
    settings = ck["settings"]
    # Terms first: a model whose data terms are unknown is not exported at all.
    data_dir = resolve_data(settings, args.data)
    n_images = int(settings["images_in_dataset"]) if "images_in_dataset" in settings else \
        int(settings["images_in_training"]) + int(settings.get("held_out", 0))
    dataset = data_terms(data_dir, args, n_images)
    m = (load_style if style else load_progressive)(ck, ckpt_path, args, n_images)
    latent, res = m.latent, m.res

    licence = {
        "model": "Made by the Imaginary Portraits project from the data below; it may be used only under "
                 "that data's terms.",
        "data": f"{dataset['name']}: {dataset['terms']} The model inherits this restriction.",
        "commercialUse": False if "non-commercial" in dataset["terms"].lower() else None,
        "datasets": [dataset],
    }
    if licence["commercialUse"] is None:
        del licence["commercialUse"]  # unknown: say nothing rather than something wrong
    training = {
        **m.training,
        "data": os.path.relpath(data_dir) if data_dir else settings.get("data"),
        "settings": settings,
        "checkpointTime": ckpt_time.isoformat(timespec="seconds"),
        "gParams": m.g_params,
        "dParams": count_params(m.critic),
    }
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    # --- generator ---
    os.makedirs(out, exist_ok=True)
    gen = m.generator
    dynamic = {name: {0: "N"} for name in m.input_names + ["image"]}
    export_onnx(gen, m.example, os.path.join(out, "generator.onnx"), m.input_names, ["image"], dynamic)
    img_ref = gen(*[m.reference[name] for name in m.input_names])
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"about": "torch outputs at export; an ONNX runtime must reproduce them to ~1e-4",
                   **{name: t.tolist() for name, t in m.reference.items()}, "image": summary(img_ref)}, f)
    history = ck["state"].get("history", [])
    save_curves(history, os.path.join(out, "loss.png"))
    m.figures(out)
    manifest = {
        "id": model_id,
        "name": f"{m.name} ({model_id})",
        "description": m.description,
        "kind": "generator",
        "inputs": m.manifest_inputs,
        "outputs": [{"name": "image", "dims": ["N", 3, res, res], "dtype": "float32", "range": [-1, 1],
                     "layout": "NCHW RGB"}],
        "generator": {"file": "generator.onnx", "input": "z", "output": "image", "latentSize": latent,
                      "distribution": "normal", "resolution": res, "range": [-1, 1], "layout": "NCHW",
                      **m.generator_extra},
        "related": {"critic": critic_id, **({"face": args.face} if args.face else {})},
        "licence": licence,
        "training": training,
        "created": created,
    }
    write_card(out, manifest)
    manifest["files"] = describe_files(out, OPSET)
    write_manifest(out, manifest)

    # --- critic trunk ---
    os.makedirs(critic_out, exist_ok=True)
    trunk = TrunkFeatures(m.critic).eval()  # the style critic has the same trunk layout (from_rgb, blocks by resolution)
    depth = int(math.log2(res)) - 1  # from_rgb output plus one per block down to 4x4
    names = [f"feat{res >> i}" for i in range(depth)]
    dyn = {"image": {0: "N", 2: "H", 3: "W"}}
    for i, name in enumerate(names):
        dyn[name] = {0: "N", 2: "H" if i == 0 else f"H/{2 ** i}", 3: "W" if i == 0 else f"W/{2 ** i}"}
    export_onnx(trunk, torch.randn(1, 3, res, res), os.path.join(critic_out, "critic.onnx"), ["image"], names, dyn)
    pattern = test_pattern(2, res)
    feats = trunk(pattern)
    with open(os.path.join(critic_out, "reference.json"), "w") as f:
        json.dump({"about": "torch outputs at export for image = 0.8 sin(0.1 x + 0.2 y + c + n) (x, y pixels, "
                            "c channel, n batch index); an ONNX runtime must reproduce them to ~1e-4",
                   "input": {"shape": list(pattern.shape)},
                   "outputs": {n: summary(t) for n, t in zip(names, feats)}}, f)
    layers = []
    for i, (name, t) in enumerate(zip(names, feats)):
        # Words align from the coarse end; the extra fine map of a 128 px trunk keeps its tensor name.
        w = len(LAYER_WORDS) - (len(names) - i)
        word, about = LAYER_WORDS[w] if w >= 0 else (name, "fine detail")
        layers.append({"name": word, "tensor": name, "channels": int(t.shape[1]),
                       "description": f"{about} ({t.shape[2]}x{t.shape[3]} at a {res} px input)".strip()})
    critic_manifest = {
        "id": critic_id,
        "name": f"{'Style face' if style else 'Face'} GAN critic trunk ({model_id})",
        "description": f"The convolutional trunk of {model_id}'s critic (discriminator): the features it learned "
                       "to tell real faces from generated ones, exposed block by block for the dream passes.",
        "kind": "critic",
        "inputs": [{"name": "image", "dims": ["N", 3, "H", "W"], "dtype": "float32", "range": [-1, 1],
                    "layout": "NCHW RGB", "description": f"trained at {res}x{res}; any H, W divisible by {2 ** (depth - 1)}"}],
        "outputs": [{"name": n, "dims": ["N", int(t.shape[1]), "H" if i == 0 else f"H/{2 ** i}",
                                         "W" if i == 0 else f"W/{2 ** i}"], "dtype": "float32", "layout": "NCHW"}
                    for i, (n, t) in enumerate(zip(names, feats))],
        "dream": {"file": "critic.onnx", "input": "image", "range": [-1, 1], "layers": layers},
        "related": {"generator": model_id},
        "licence": licence,
        "training": training,
        "created": created,
        "files": describe_files(critic_out, OPSET),
    }
    write_manifest(critic_out, critic_manifest)
    print(json.dumps({"generator": out, "critic": critic_out, "complete": training["complete"],
                      "steps": training["steps"], "architecture": "style" if style else "progressive"}), flush=True)


if __name__ == "__main__":
    main()
