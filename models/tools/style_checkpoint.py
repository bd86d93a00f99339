"""The style trainer's compact checkpoint, on disk as two files so that neither passes the
repository's 20 MB limit per file:
  style-face.pt        the generator and its EMA, training state, held-out list, settings
                       (all that export and evaluation need)
  style-face.train.pt  the critic and both optimisers' second moments (needed to resume)
load() gives back the one dictionary the trainer wrote; a checkpoint written as a single file
by an earlier version loads too.
"""
import os

import torch

# What goes into the companion file; everything else stays in the main one.
TRAINING_ONLY = ("D", "opt_g", "opt_d")


def companion(path: str) -> str:
    """style-face.pt -> style-face.train.pt"""
    stem, ext = os.path.splitext(path)
    return f"{stem}.train{ext or '.pt'}"


def _save_atomic(obj: dict, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save(ck: dict, path: str) -> None:
    """Writes both files, the companion first, so a main file never stands without a matching one."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    _save_atomic({k: ck[k] for k in TRAINING_ONLY if k in ck}, companion(path))
    _save_atomic({k: v for k, v in ck.items() if k not in TRAINING_ONLY}, path)


def load(path: str, map_location=None) -> dict:
    ck = torch.load(path, map_location=map_location)
    extra = companion(path)
    if os.path.exists(extra):
        ck.update(torch.load(extra, map_location=map_location))
    return ck


def size_bytes(path: str) -> int:
    """Both files together."""
    return sum(os.path.getsize(p) for p in (path, companion(path)) if os.path.exists(p))
