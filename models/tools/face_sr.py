"""The face stage of the stacked generator: a small x2 super-resolution network for faces,
its training degradations, its critic and its perceptual feature network.

FaceSR works at the low resolution (residual blocks of 3x3 convolutions, no normalisation)
and ends in a sub-pixel convolution (DepthToSpace in ONNX) to RGB at twice the size, added
to a bilinear enlargement of its input: the network only has to paint what the
enlargement lacks. Almost all its cost is at the input's size: at 128 -> 256 px,
32 channels x 4 blocks cost about 2.9 GFLOP (gflops() below; the trainer prints it), the rest of the live frame's budget
(issue 16: about 6 GFLOP a frame at 30 fps on this 2-core CPU) is the generator's.

The perceptual loss reads the Darknet tiny ImageNet classifier (MIT; models/darknet-tiny,
an independent pretrained network, never trained here) from its ONNX file into torch.
"""
import math

import cv2
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=1)
        self.b = nn.Conv2d(c, c, 3, padding=1)
        # Start each block near identity: deep residual stacks without normalisation train steadily so.
        nn.init.zeros_(self.b.weight)
        nn.init.zeros_(self.b.bias)

    def forward(self, x):
        return x + self.b(lrelu(self.a(x)))


class FaceSR(nn.Module):
    """image [N, 3, H, W] in [-1, 1] -> [N, 3, 2H, 2W] in about [-1, 1].

    fold 2 runs the network at half the input's size on its 2x2 pixel blocks stacked as
    channels (pixel unshuffle, lossless) and paints the output's 4x4 blocks: a quarter of
    the work per layer, so a wider network fits the live budget. The stack's input is a
    64 px face enlarged to 128, whose detail lives on the 64 px grid anyway.
    """

    def __init__(self, channels=32, blocks=4, fold=1):
        super().__init__()
        if fold not in (1, 2):
            raise ValueError(f"fold {fold}: expected 1 or 2")
        self.channels, self.blocks, self.fold = channels, blocks, fold
        self.unshuffle = nn.PixelUnshuffle(fold) if fold > 1 else nn.Identity()
        self.head = nn.Conv2d(3 * fold * fold, channels, 3, padding=1)
        self.body = nn.Sequential(*[ResBlock(channels) for _ in range(blocks)])
        self.fuse = nn.Conv2d(channels, channels, 3, padding=1)
        self.tail = nn.Conv2d(channels, 3 * (2 * fold) ** 2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2 * fold)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x):
        base = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        h = lrelu(self.head(self.unshuffle(x)))
        h = h + self.fuse(self.body(h))
        return base + self.shuffle(self.tail(lrelu(h)))


def gflops(model: FaceSR, size: int) -> float:
    """Multiply-adds x 2 for one `size` px input (convolutions only)."""
    c, f = model.channels, model.fold
    per_cell = 3 * f * f * c * 9 + model.blocks * 2 * c * c * 9 + c * c * 9 + c * 3 * (2 * f) ** 2 * 9
    return 2 * per_cell * (size / f) ** 2 / 1e9


class PatchCritic(nn.Module):
    """A small patch critic: real or enhanced, judged per ~22 px patch of the high-resolution picture."""

    def __init__(self, channels=32):
        super().__init__()
        self.channels = c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, c * 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c * 2, c * 4, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c * 4, c * 4, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c * 4, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


class DarknetFeatures(nn.Module):
    """The first convolution blocks of Darknet tiny (an ONNX chain of Conv, LeakyRelu and
    MaxPool, batch norm folded into the convolutions) as frozen torch layers; returns the
    activation after each of the first `depth` LeakyRelus. Input: RGB in [0, 1]."""

    def __init__(self, onnx_path: str, depth: int = 6):
        super().__init__()
        model = onnx.load(onnx_path)
        weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        self.layers = nn.ModuleList()
        self.taps = []
        relus = 0
        for node in model.graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "Conv":
                w = weights[node.input[1]]
                conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], stride=tuple(attrs.get("strides", [1, 1])),
                                 padding=_symmetric(attrs.get("pads", [0, 0, 0, 0]), node.name), bias=len(node.input) > 2)
                conv.weight.data.copy_(w)
                if len(node.input) > 2:
                    conv.bias.data.copy_(weights[node.input[2]])
                self.layers.append(conv)
            elif node.op_type == "LeakyRelu":
                self.layers.append(nn.LeakyReLU(float(attrs.get("alpha", 0.01))))
                relus += 1
                self.taps.append(len(self.layers) - 1)
                if relus >= depth:
                    break
            elif node.op_type == "MaxPool":
                k = tuple(attrs["kernel_shape"])
                self.layers.append(nn.MaxPool2d(k, stride=tuple(attrs.get("strides", k)),
                                                padding=_symmetric(attrs.get("pads", [0, 0, 0, 0]), node.name)))
            else:
                raise ValueError(f"{onnx_path}: unexpected {node.op_type} before LeakyRelu {depth}")
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def forward(self, x):
        out = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


def _symmetric(pads, name):
    half = len(pads) // 2
    if list(pads[:half]) != list(pads[half:]):
        raise ValueError(f"{name}: asymmetric padding {pads} is not supported")
    return tuple(pads[:half])


# --- degradations: what a real 2x smaller picture looks like -------------------------------

def _gaussian_kernel(sigma: float) -> np.ndarray:
    r = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def degrade(hr: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """uint8 HWC RGB at 2s -> uint8 at s: random blur, one of three ways of shrinking, sensor
    noise and JPEG, so the network learns to undo what cameras and codecs do rather than one
    exact resampling filter."""
    img = hr.astype(np.float32)
    if rng.rand() < 0.8:
        k = _gaussian_kernel(rng.uniform(0.3, 1.3))
        img = cv2.sepFilter2D(img, -1, k, k, borderType=cv2.BORDER_REFLECT)
    h, w = hr.shape[:2]
    method = [cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC][rng.randint(3)]
    img = cv2.resize(img, (w // 2, h // 2), interpolation=method)
    if rng.rand() < 0.6:
        img = img + rng.normal(0, rng.uniform(0.5, 4.0), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.rand() < 0.7:
        q = int(rng.randint(55, 96))
        ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]
    return np.ascontiguousarray(img)


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def detail(x: torch.Tensor) -> torch.Tensor:
    """Per-image high-frequency energy (mean squared Laplacian of the luma), the 'detail' figure."""
    luma = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    lap = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=x.dtype).view(1, 1, 3, 3)
    return F.conv2d(luma, lap).pow(2).mean(dim=(1, 2, 3))


# --- the stack's own inputs: a base generator's face, enlarged as the frame path enlarges it ---

def base_pair(photo: np.ndarray, base: int, rng: np.random.RandomState = None) -> tuple:
    """A real photo (uint8 HWC RGB, any size) -> (hr, lr): the photo at the stage's output size
    (4 x base) and the photo as a `base` px generator draws it (shrunk to base px the way the
    generator's training photos were, by area; with rng, sometimes blurred first or shrunk
    another way, with faint noise), both uint8. The network's input is `lr` enlarged 2x by
    enlarge() below, which is what the live frame path hands the stage."""
    side = 4 * base
    hr = photo if photo.shape[0] == side else cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)
    img = hr.astype(np.float32)
    method = cv2.INTER_AREA
    if rng is not None:
        if rng.rand() < 0.4:
            k = _gaussian_kernel(rng.uniform(0.5, 2.0))
            img = cv2.sepFilter2D(img, -1, k, k, borderType=cv2.BORDER_REFLECT)
        if rng.rand() < 0.2:
            method = [cv2.INTER_LINEAR, cv2.INTER_CUBIC][rng.randint(2)]
    lr = cv2.resize(img, (base, base), interpolation=method)
    if rng is not None and rng.rand() < 0.3:
        lr = lr + rng.normal(0, rng.uniform(0.5, 2.5), lr.shape).astype(np.float32)
    return np.ascontiguousarray(hr), np.clip(np.round(lr), 0, 255).astype(np.uint8)


def enlarge(x: torch.Tensor) -> torch.Tensor:
    """2x linear enlargement with half-pixel centres: onnxruntime's Resize (mode linear) that
    the server's dream stage and face stage use (server/dream/image-ops.ts) does the same."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def shrink(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Area shrink by an integer factor (average of factor x factor blocks)."""
    return F.avg_pool2d(x, factor)
