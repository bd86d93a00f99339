"""Export a face stage checkpoint (train_face_sr.py; models/checkpoints/face-sr.pt) to an ONNX
model folder the server runs live between the dream and the ESRGAN passes (server/stages/face.ts):

  portraits export --checkpoint models/checkpoints/face-sr.pt --out models/face-sr [--max-input 128]

The EMA weights are exported (what the trainer's samples show), with any input size
(the network is fully convolutional). The manifest's "face" section tells the server the
tensor names, the value range and the largest input it is run on. To make it a generator's
own face stage, add "face": "face-sr" to that generator's manifest "related" section (or set
the server's faceModel). Its licence is its training data's (UTKFace: non-commercial).
"""
import argparse
import datetime
import json
import os
import sys

import torch

from export import OPSET, data_terms, export_onnx, fail, resolve_data, summary, test_pattern
from face_sr import FaceSR, gflops
from model_files import describe_files, write_manifest

FORMAT = "portraits-face-sr-checkpoint/1"


def is_face_sr_checkpoint(ck: dict) -> bool:
    return str(ck.get("format", "")).startswith("portraits-face-sr-checkpoint/")


class ForOnnx(torch.nn.Module):
    """FaceSR with its output clamped to the range it was trained in."""

    def __init__(self, net: FaceSR):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net(image).clamp(-1.0, 1.0)


def load_ema(ck: dict) -> FaceSR:
    s = ck["settings"]
    net = FaceSR(int(s["channels"]), int(s["blocks"]), int(s.get("fold", 1)))
    own = net.state_dict()
    net.load_state_dict({k: v.to(own[k].dtype) for k, v in ck["ema"].items()})
    return net.eval()


def main(argv=None, ck=None, ckpt_path=""):
    ap = argparse.ArgumentParser(prog="portraits export (face stage)", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="face stage checkpoint, e.g. models/checkpoints/face-sr.pt")
    ap.add_argument("--out", required=True, help="model folder, e.g. models/face-sr")
    ap.add_argument("--id", default="", help="model id (default: the --out folder's name)")
    ap.add_argument("--max-input", type=int, default=128,
                    help="largest input side the server runs it on, px (default: %(default)s: 128 -> 256 live)")
    ap.add_argument("--data", default="", help="the training set folder, if it moved since training (default: the one recorded)")
    ap.add_argument("--data-name", default="", help="name of a training set that is not UTKFace, with --data-terms")
    ap.add_argument("--data-terms", default="", help="terms of a training set that is not UTKFace (default: UTKFace's)")
    args, _ = ap.parse_known_args(argv)
    ckpt_path = ckpt_path or args.checkpoint
    if ck is None:
        if not os.path.exists(ckpt_path):
            fail(f"{ckpt_path} not found; train first with `portraits train --arch face-sr --data DIR`")
        ck = torch.load(ckpt_path, map_location="cpu")
    if not is_face_sr_checkpoint(ck):
        fail(f"{ckpt_path} is not a face stage checkpoint ({FORMAT})")
    settings = ck["settings"]
    out = args.out.rstrip("/")
    model_id = args.id or os.path.basename(out)
    data_dir = resolve_data(settings, args.data)
    n_images = int(settings.get("training_photos", 0)) + int(settings.get("held_out", 0))
    dataset = data_terms(data_dir, args, n_images)
    torch.set_grad_enabled(False)

    net = load_ema(ck)
    base = int(settings.get("base", 0))
    os.makedirs(out, exist_ok=True)
    example = test_pattern(1, 32)
    dynamic = {"image": {0: "N", 2: "H", 3: "W"}, "face": {0: "N", 2: "2H", 3: "2W"}}
    export_onnx(ForOnnx(net), example, os.path.join(out, "face.onnx"), ["image"], ["face"], dynamic)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"about": "torch output at export for image = 0.8 sin(0.1 x + 0.2 y + c) at 32x32; an ONNX runtime "
                            "must reproduce it to ~1e-4", "input": {"shape": list(example.shape)},
                   "face": summary(ForOnnx(net)(example))}, f)
    state = ck.get("state", {})
    manifest = {
        "id": model_id,
        "name": f"Face stage x2 ({model_id})",
        "description": "The stacked generator's face stage: an x2 super-resolution network trained on face photos "
                       "(camera-like degradations; pixel, perceptual and adversarial losses), run live between the "
                       "dream pass and the ESRGAN passes.",
        "kind": "upscaler",
        "inputs": [{"name": "image", "dims": ["N", 3, "H", "W"], "dtype": "float32", "range": [-1, 1], "layout": "NCHW RGB"}],
        "outputs": [{"name": "face", "dims": ["N", 3, "2H", "2W"], "dtype": "float32", "range": [-1, 1], "layout": "NCHW RGB"}],
        "face": {"file": "face.onnx", "input": "image", "output": "face", "scale": 2, "range": [-1, 1],
                 "maxInput": max(args.max_input, 2 * base),
                 # trained on a `base` px face enlarged linearly to 2 x base: the server enlarges smaller pictures so
                 **({"inputSize": 2 * base} if base else {})},
        "licence": {
            "model": "Made by the Imaginary Portraits project from the data below; it may be used only under that data's terms.",
            "data": f"{dataset['name']}: {dataset['terms']} The model inherits this restriction.",
            **({"commercialUse": False} if "non-commercial" in dataset["terms"].lower() else {}),
            "datasets": [dataset],
        },
        "training": {"steps": int(state.get("step", 0)), "images": int(state.get("images", 0)),
                     "hours": round(float(state.get("seconds", 0.0)) / 3600, 2), "settings": settings,
                     "gflopAt128": round(gflops(net, 128), 2),
                     "params": sum(p.numel() for p in net.parameters())},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    manifest["files"] = describe_files(out, OPSET)
    write_manifest(out, manifest)
    print(json.dumps({"face": out, "steps": manifest["training"]["steps"]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
