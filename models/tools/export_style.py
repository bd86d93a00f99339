"""The style generator's side of `portraits export` (style_networks.py, trained by train_style.py).

The shipped graph takes four inputs, so truncation and style mixing are live controls:
  z         [N, latent]  standard-normal latent (the face)
  psi       [N, 1]       truncation: w = w_avg + psi (w - w_avg); 1 = as trained, 0 = the average face
  z_mix     [N, latent]  a second latent, mapped and truncated the same way
  mix_from  [N, 1]       float layer index: layers with index >= mix_from take z_mix's w, the others z's
                         (mix_from >= the layer count: no mixing). Between two integers the layer just
                         below the crossover blends the two w's, so a crossover can glide.
and returns image [N, 3, R, R] clamped to [-1, 1].

Layers are counted in synthesis order: the 4x4 convolution and its RGB, then per resolution its
convolutions and its RGB. They are grouped by the resolution they work at, as StyleGAN's
authors describe them: coarse (4-8 px: pose, face shape, hair style), middle (16-32 px: eyes,
nose, mouth, expression), fine (64 px and up: colours, skin and hair texture).
"""
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

from style_networks import SLE, StyleCritic, StyleGenerator, count_params, gflops_per_image, lrelu, recalibrate_batchnorm

FORMAT_PREFIX = "portraits-style-checkpoint/"

# What each group changes, as seen in mixing.png of the first exports (a 64 px model carries skin
# tone and light in its coarse layers, and only subtle colour in its two 64 px layers).
GROUPS = [("coarse", 4, 8, "pose, face shape, hair, skin tone and light"),
          ("middle", 16, 32, "eyes, nose, mouth, expression, some colouring"),
          ("fine", 64, 1 << 30, "fine colour and texture")]


def is_style_checkpoint(ck: dict) -> bool:
    return str(ck.get("format", "")).startswith(FORMAT_PREFIX)


def _fixed_pool(sle: SLE, low_res: int) -> None:
    """SLE pools its low-resolution map to 4x4 with adaptive pooling, which torch 1.13 cannot export
    once the traced spatial sizes are symbolic (they are, after the upsampling Resize ops). The map's
    size is known from the layout (res / 8), so an average pool of a fixed kernel is the same arithmetic;
    checked against the module's own forward before it is replaced."""
    k = low_res // 4
    original = sle.forward

    def forward(self, low, high):
        g = self.conv1(F.avg_pool2d(low, k))
        return high * torch.sigmoid(self.conv2(lrelu(g)))

    low = torch.randn(2, sle.conv1.in_channels, low_res, low_res, generator=torch.Generator().manual_seed(5))
    high = torch.randn(2, sle.conv2.out_channels, 8 * low_res, 8 * low_res, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        same = torch.allclose(original(low, high), forward(sle, low, high), atol=1e-5)
    if not same:
        raise SystemExit("portraits export: SLE's forward changed (style_networks.py); update export_style._fixed_pool")
    sle.forward = types.MethodType(forward, sle)


class StyleExport(nn.Module):
    """The style generator as shipped: (z, psi, z_mix, mix_from) -> image in [-1, 1]."""

    def __init__(self, g: StyleGenerator):
        super().__init__()
        self.g = g
        for res, sle in g.sle.items():
            _fixed_pool(sle, int(res) // 8)
        self.register_buffer("layer_index", torch.arange(g.num_layers(), dtype=torch.float32).view(1, -1, 1))

    def forward(self, z, psi, z_mix, mix_from):
        g = self.g
        w = g.w_avg + psi * (g.mapping(z) - g.w_avg)
        w_mix = g.w_avg + psi * (g.mapping(z_mix) - g.w_avg)
        # 0 for layers below the crossover, 1 from it on.
        t = (self.layer_index + 1.0 - mix_from.unsqueeze(1)).clamp(0.0, 1.0)
        ws = w.unsqueeze(1) + t * (w_mix - w).unsqueeze(1)
        return g.synthesis(ws).clamp(-1.0, 1.0)


def layer_resolutions(g: StyleGenerator) -> list:
    """The resolution each w layer works at, in the order synthesis() reads them."""
    out = [4, 4]  # conv4, rgb4
    for r in g.resolutions():
        out += [r] * (len(g.blocks[str(r)].convs) + 1)
    assert len(out) == g.num_layers()
    return out


def layer_groups(resolutions: list) -> dict:
    """{"coarse": {"first", "last", "resolutions", "description"}, ...}: contiguous index ranges."""
    groups = {}
    for name, lo, hi, about in GROUPS:
        idx = [i for i, r in enumerate(resolutions) if lo <= r <= hi]
        if not idx:
            raise SystemExit(f"portraits export: a {resolutions[-1]} px style generator has no {name} layers "
                             f"({lo}-{hi} px); style mixing needs 64 px or more")
        groups[name] = {"first": idx[0], "last": idx[-1], "resolutions": sorted(set(resolutions[i] for i in idx)),
                        "description": about}
    return groups


def load_generator(ck: dict) -> StyleGenerator:
    """The EMA generator with batch-norm statistics re-estimated for its own weights."""
    from train_style import unpack_state  # the trainer's own fp16 -> fp32 unpacking
    state = ck["state"]
    g = StyleGenerator(max_res=int(state["res"]))
    unpack_state(g, ck["G_ema"])
    # The EMA weights are an average; the batch-norm statistics copied from the live G do not
    # match them (the same mismatch tinted the first progressive exports), so measure them again.
    recalibrate_batchnorm(g)
    return g.eval()


def load_critic(ck: dict) -> StyleCritic:
    from train_style import unpack_state
    d = StyleCritic(int(ck["state"]["res"]))
    unpack_state(d, ck["D"])
    return d.eval()


def example_inputs(g: StyleGenerator, n: int = 2):
    gen = torch.Generator().manual_seed(3)
    return (torch.randn(n, g.z_dim, generator=gen), torch.full((n, 1), 0.7), torch.randn(n, g.z_dim, generator=gen),
            torch.full((n, 1), float(g.num_layers())))


def reference_inputs(g: StyleGenerator, groups: dict) -> dict:
    """Three rows: no truncation and no mixing; truncation 0.7 with middle+fine from z_mix; 0.5 with fine from z_mix."""
    z = torch.randn(3, g.z_dim, generator=torch.Generator().manual_seed(7))
    z_mix = torch.randn(3, g.z_dim, generator=torch.Generator().manual_seed(8))
    psi = torch.tensor([[1.0], [0.7], [0.5]])
    mix_from = torch.tensor([[float(g.num_layers())], [float(groups["middle"]["first"])], [float(groups["fine"]["first"])]])
    return {"z": z, "psi": psi, "z_mix": z_mix, "mix_from": mix_from}


def style_section(g: StyleGenerator, groups: dict, resolutions: list) -> dict:
    """manifest.generator.style (schema: common/manifest.ts StyleSchema)."""
    return {"psi": "psi", "mixInput": "z_mix", "mixFrom": "mix_from", "wSize": g.w_dim, "layers": g.num_layers(),
            "layerResolutions": resolutions, "groups": groups,
            "truncation": "w = w_avg + psi (w - w_avg); psi 1 is the trained distribution, 0 the average face",
            "mixing": "layers with index >= mix_from take z_mix's w; mix_from >= layers: no mixing"}


def manifest_inputs(latent: int, layers: int) -> list:
    return [
        {"name": "z", "dims": ["N", latent], "dtype": "float32",
         "description": "standard-normal latent; seeds map to latents with common/latent.ts seedToLatent"},
        {"name": "psi", "dims": ["N", 1], "dtype": "float32", "range": [0, 1],
         "description": "truncation toward the average face in W: 1 = as trained, lower = more typical faces"},
        {"name": "z_mix", "dims": ["N", latent], "dtype": "float32",
         "description": "a second latent for style mixing (any value when mix_from >= the layer count)"},
        {"name": "mix_from", "dims": ["N", 1], "dtype": "float32", "range": [0, layers],
         "description": f"layer index from which z_mix's styles are used; {layers} (the layer count) = no mixing"},
    ]


def describe(g: StyleGenerator, settings: dict) -> str:
    res = g.max_res
    return (f"Style generator with a W space ({count_params(g):,} parameters, EMA weights, "
            f"{gflops_per_image(g):.2f} GFLOP per face) trained on {settings['images_in_training']:,} curated face "
            f"photos ({settings.get('held_out', 0):,} more held out for evaluation); makes {res}x{res} portraits of "
            "people who do not exist, with truncation and style mixing as inputs.")


def training_record(ck: dict, ckpt_path: str, complete: bool) -> dict:
    state, settings = ck["state"], ck["settings"]
    return {
        "architecture": "style",
        "checkpoint": ckpt_path,
        "steps": state["step"],
        "imagesShown": state["images"],
        "wallSeconds": round(float(state["seconds"]), 1),
        "resolution": state["res"],
        "grownAt": state.get("grown_at"),
        "sessions": state.get("sessions", []),
        "heldOut": {"count": len(ck.get("holdout", [])),
                    "where": "the checkpoint's 'holdout' key and OUT/holdout.json of the run (train_style.py)"},
        "complete": complete,
    }


@torch.no_grad()
def save_figures(gen: StyleExport, groups: dict, folder: str, psi: float = 0.7) -> None:
    """samples.png (8x8 at psi), truncation.png (rows: seeds; columns: psi 0..1), mixing.png."""
    import cv2
    import numpy as np

    from plots import grid, to_uint8, write_png
    g = gen.g
    layers = float(g.num_layers())
    z = torch.randn(64, g.z_dim, generator=torch.Generator().manual_seed(0))
    n = z.shape[0]
    write_png(f"{folder}/samples.png", grid(to_uint8(gen(z, torch.full((n, 1), psi), z, torch.full((n, 1), layers))), cols=8))

    psis = [0.0, 0.25, 0.5, 0.7, 0.85, 1.0]
    zs = z[:6].repeat_interleave(len(psis), 0)
    p = torch.tensor(psis).repeat(6).view(-1, 1)
    write_png(f"{folder}/truncation.png", grid(to_uint8(gen(zs, p, zs, torch.full((zs.shape[0], 1), layers))), cols=len(psis)))

    # Mixing: the top row are the other faces (z_mix), the left column the faces (z); each block of rows
    # shows one band taken from the other face, as the live 'portrait.mix' setting does.
    a, b = z[8:12], z[16:21]
    size = g.max_res
    blank = np.zeros((1, size, size, 3), np.uint8)
    top = np.concatenate([blank, to_uint8(gen(b, torch.full((len(b), 1), psi), b, torch.full((len(b), 1), layers)))])
    rows = [top]
    for name in ["coarse", "middle", "fine"]:
        for face in a:
            za = face.expand(len(b), -1)
            p = torch.full((len(b), 1), psi)
            if name == "coarse":  # the other face's coarse layers: it goes first, the face follows from the middle on
                img = gen(b, p, za, torch.full((len(b), 1), float(groups["middle"]["first"])))
            else:
                img = gen(za, p, b, torch.full((len(b), 1), float(groups[name]["first"])))
            own = to_uint8(gen(face[None], p[:1], face[None], torch.full((1, 1), layers)))
            row = np.concatenate([own, to_uint8(img)])
            cv2.putText(row[0], name, (2, size - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255), 1, cv2.LINE_AA)
            rows.append(row)
    write_png(f"{folder}/mixing.png", grid(np.concatenate(rows), cols=len(b) + 1))
