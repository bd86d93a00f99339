"""Manifest bookkeeping shared by export and evaluate: file lists with sizes and hashes,
reading and writing manifest.json (its schema is common/manifest.ts), and data terms."""
import hashlib
import json
import os

MAX_FILE_BYTES = 20 * 1024 * 1024  # every committed model file stays under this (repository policy)

# Roles of files a model folder may hold, by name; anything else in the folder is not listed.
KNOWN_FILES = {
    "generator.onnx": ("weights", "onnx"),
    "critic.onnx": ("weights", "onnx"),
    "face.onnx": ("weights", "onnx"),  # face stages (export_face_sr.py)
    "reference.json": ("reference", "json"),
    "README.md": ("card", "markdown"),
    "loss.png": ("figure", "png"),
    "samples.png": ("figure", "png"),
    "interpolation.png": ("figure", "png"),
    "nearest.png": ("figure", "png"),
    "truncation.png": ("figure", "png"),  # style generators: faces from psi 0 to 1
    "mixing.png": ("figure", "png"),  # style generators: coarse / middle / fine styles from another face
    "stack-samples.png": ("figure", "png"),  # evaluate: the generator then its face stage, 256 px
    "stack-interpolation.png": ("figure", "png"),
    "stack-512.png": ("figure", "png"),  # evaluate: a 512 px print through the whole print stack
}

UTKFACE = {
    "name": "UTKFace (aligned & cropped faces)",
    "source": "https://susanqq.github.io/UTKFace/",
    "terms": "Non-commercial research purposes only; the copyright of each image stays with its owner.",
}


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def describe_files(folder: str, opset: int = 0):
    out = []
    for name, (role, fmt) in KNOWN_FILES.items():
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        size = os.path.getsize(path)
        if size >= MAX_FILE_BYTES:
            raise SystemExit(f"{path} is {size / 1e6:.1f} MB; model files must stay under {MAX_FILE_BYTES / 1e6:.0f} MB")
        entry = {"path": name, "role": role, "format": fmt, "bytes": size, "sha256": sha256(path)}
        if fmt == "onnx" and opset:
            entry["opset"] = opset
        out.append(entry)
    return out


def read_manifest(folder: str) -> dict:
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found; make the model with `portraits export --run RUN --out {folder}`")
    with open(path) as f:
        return json.load(f)


def write_manifest(folder: str, manifest: dict) -> None:
    tmp = os.path.join(folder, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(folder, "manifest.json"))


def refresh_files(folder: str, manifest: dict) -> None:
    """Re-list the folder's files after something was added or rewritten."""
    opset = next((f.get("opset", 0) for f in manifest.get("files", []) if f.get("opset")), 0)
    manifest["files"] = describe_files(folder, opset)
