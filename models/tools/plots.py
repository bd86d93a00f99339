"""Sample grids and loss curves as PNG, drawn with OpenCV (no plotting library needed)."""
import math
import os

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N,3,H,W] in [-1,1] -> [N,H,W,3] uint8 RGB."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def write_png(path: str, rgb: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def grid(rgb: np.ndarray, cols: int = 0, pad: int = 2) -> np.ndarray:
    n, h, w, _ = rgb.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    out = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = rgb[i]
    return out


def save_grid(images: torch.Tensor, path: str, upscale_to: int = 0, cols: int = 0) -> None:
    if upscale_to and images.shape[2] != upscale_to:
        images = F.interpolate(images, size=(upscale_to, upscale_to), mode="nearest")
    write_png(path, grid(to_uint8(images), cols))


def save_curves(history, path: str, w: int = 800, h: int = 360) -> None:
    if len(history) < 2:
        return
    img = np.full((h, w, 3), 255, np.uint8)
    series = [("loss_d", (200, 60, 40)), ("loss_g", (40, 90, 200))]
    vals = np.array([[e[k] for k, _ in series] for e in history], dtype=np.float64)
    lo, hi = np.percentile(vals, 1), np.percentile(vals, 99)
    hi = hi if hi > lo else lo + 1
    m = 40
    steps = np.array([e["step"] for e in history], dtype=np.float64)
    xs = m + (steps - steps[0]) / max(1, steps[-1] - steps[0]) * (w - 2 * m)
    for j, (name, colour) in enumerate(series):
        # a running mean keeps the curve readable; raw GAN losses are very noisy
        k = max(1, len(vals) // 100)
        v = np.convolve(vals[:, j], np.ones(k) / k, mode="same")
        ys = h - m - (np.clip(v, lo, hi) - lo) / (hi - lo) * (h - 2 * m)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(img, [pts], False, colour[::-1], 1, cv2.LINE_AA)
        cv2.putText(img, name, (m + 120 * j, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour[::-1], 1, cv2.LINE_AA)
    res_changes = [i for i in range(1, len(history)) if history[i]["res"] != history[i - 1]["res"]]
    for i in res_changes:
        cv2.line(img, (int(xs[i]), m), (int(xs[i]), h - m), (180, 180, 180), 1)
        cv2.putText(img, f"{history[i]['res']}px", (int(xs[i]) + 3, h - m - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (120, 120, 120), 1)
    cv2.putText(img, f"{lo:.2f}", (2, h - m), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(img, f"{hi:.2f}", (2, m), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(img, "step", (w - m - 30, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    write_png(path, img[:, :, ::-1].copy())
