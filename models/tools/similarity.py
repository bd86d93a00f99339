"""Image distances for the novelty and diversity checks, kept deliberately simple and explainable.

`gray32`: each image to greyscale, area-downsampled to 32x32, mean removed, scaled to unit
length; distance is the L2 between those vectors (0 = the same picture up to brightness and
contrast, sqrt(2) = unrelated, 2 = negative). It ignores colour and fine noise, which is what
a copy of a training photo would keep.
`rgb32`: RMS difference of 32x32 colour thumbnails in [0, 1] (colour and layout together).
"""
import cv2
import numpy as np

from progress import Progress


def gray32(images: np.ndarray) -> np.ndarray:
    """[N,H,W,3] uint8 -> [N,1024] float32 unit vectors."""
    out = np.empty((len(images), 1024), np.float32)
    for i, im in enumerate(images):
        g = cv2.resize(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
        v = g.astype(np.float32).ravel()
        v -= v.mean()
        out[i] = v / max(float(np.linalg.norm(v)), 1e-6)
    return out


def rgb32(images: np.ndarray) -> np.ndarray:
    """[N,H,W,3] uint8 -> [N,3072] float32 in [0,1] / sqrt(3072), so L2 distance is the RMS difference."""
    out = np.empty((len(images), 3072), np.float32)
    for i, im in enumerate(images):
        out[i] = cv2.resize(im, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255.0
    return out / np.sqrt(3072.0)


def nearest(queries: np.ndarray, pool: np.ndarray, exclude_self: np.ndarray = None, label: str = ""):
    """Nearest pool row (L2) for every query row; exclude_self[i] = pool index query i must not match."""
    pool_sq = (pool ** 2).sum(1)
    best_d = np.full(len(queries), np.inf, np.float32)
    best_i = np.zeros(len(queries), np.int64)
    prog = Progress(len(pool), label) if label else None
    chunk = 4096
    q_sq = (queries ** 2).sum(1)
    for s in range(0, len(pool), chunk):
        d2 = q_sq[:, None] + pool_sq[None, s:s + chunk] - 2.0 * queries @ pool[s:s + chunk].T
        if exclude_self is not None:
            rows = np.nonzero((exclude_self >= s) & (exclude_self < s + chunk))[0]
            d2[rows, exclude_self[rows] - s] = np.inf
        i = d2.argmin(1)
        d = d2[np.arange(len(queries)), i]
        better = d < best_d
        best_d[better], best_i[better] = d[better], i[better] + s
        if prog:
            prog.update(min(chunk, len(pool) - s))
    if prog:
        prog.close()
    return np.sqrt(np.maximum(best_d, 0)), best_i


def pairwise(x: np.ndarray) -> np.ndarray:
    """All distinct pairwise L2 distances (upper triangle)."""
    sq = (x ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0)
    iu = np.triu_indices(len(x), 1)
    return np.sqrt(d2[iu])


def within_nearest(x: np.ndarray) -> np.ndarray:
    """Each row's distance to its nearest other row of the same set."""
    sq = (x ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0)
    np.fill_diagonal(d2, np.inf)
    return np.sqrt(d2.min(1))


def stats(d: np.ndarray) -> dict:
    return {"min": float(d.min()), "p1": float(np.percentile(d, 1)), "p5": float(np.percentile(d, 5)),
            "median": float(np.median(d)), "mean": float(d.mean()), "std": float(d.std()), "max": float(d.max())}
