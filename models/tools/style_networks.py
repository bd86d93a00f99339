"""Style generator and critic: a W space on a CPU budget.

Generator (StyleGAN-like, sized for a 2-core CPU):
  mapping    z -> 4 equalised-lr linear layers (lr x0.1 of the rest; StyleGAN uses 0.01 with a 10x larger base lr) -> w; a running
             mean of w (`w_avg`) gives truncation ("diversity"), a w per layer gives style mixing.
  synthesis  a learned 4x4 constant; every layer modulates its input channels with a
             per-sample scale from w (StyleGAN2's modulation, written as activations x scale,
             then a shared convolution, which is the same arithmetic as scaling the weights),
             then normalises with batch statistics (where StyleGAN2 demodulates: batch norm
             trains faster and more stably here, and, unlike AdaIN's instance norm, does not
             erase per-sample statistics, so no droplet artefacts).
             Nearest-neighbour upsampling + 3x3 convolutions in channels_last (4-5x faster to
             train on this CPU than transposed convolutions).
  skip RGB   every resolution adds its own RGB to the bilinearly upsampled RGB below
             (StyleGAN2's skip generator). A newly grown resolution's toRGB starts at zero,
             so growing from 64 px to 128 px keeps the trained picture and only adds detail.
  SLE        FastGAN's skip-layer excitation: the 8x8 features gate the 64x64 channels
             (and 16x16 the 128x128), which carries global layout to fine layers cheaply.

Critic: residual-free DCGAN-style stack (batch norm, LeakyReLU, average pooling) with
minibatch stddev; grown at the input side with a fade like ProGAN.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

G_CHANNELS = {4: 256, 8: 256, 16: 160, 32: 96, 64: 48, 128: 24}
D_CHANNELS = {128: 16, 64: 32, 32: 64, 16: 128, 8: 256, 4: 256}
# Resolutions with a second 3x3 convolution: cheap at low resolution, where layout is made.
DOUBLE = {8, 16, 32}


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate (weights scaled at run time)."""

    def __init__(self, cin, cout, bias_init=0.0, lr_mul=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(cin)
        self.lr_mul = lr_mul

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Mapping(nn.Module):
    def __init__(self, z_dim=128, w_dim=256, layers=4):
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.fcs = nn.ModuleList(EqualLinear(a, b, lr_mul=0.1) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z):
        x = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
        for fc in self.fcs:
            x = lrelu(fc(x)) * math.sqrt(2)
        return x


class ModConv(nn.Module):
    """x * style(w) per input channel -> [upsample] -> conv3x3 -> batch norm -> LeakyReLU."""

    def __init__(self, cin, cout, w_dim, up=False):
        super().__init__()
        self.up = up
        self.style = EqualLinear(w_dim, cin, bias_init=1.0)
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x, w):
        x = x * self.style(w)[:, :, None, None]
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return lrelu(self.bn(self.conv(x)))


class ToRGB(nn.Module):
    def __init__(self, cin, w_dim, zero=False):
        super().__init__()
        self.style = EqualLinear(w_dim, cin, bias_init=1.0)
        self.conv = nn.Conv2d(cin, 3, 1)
        if zero:
            nn.init.zeros_(self.conv.weight)
            nn.init.zeros_(self.conv.bias)

    def forward(self, x, w):
        return self.conv(x * self.style(w)[:, :, None, None])


class SLE(nn.Module):
    """FastGAN skip-layer excitation: a low-resolution map gates a high-resolution one's channels."""

    def __init__(self, c_low, c_high):
        super().__init__()
        self.conv1 = nn.Conv2d(c_low, c_high, 4)
        self.conv2 = nn.Conv2d(c_high, c_high, 1)

    def forward(self, low, high):
        g = self.conv1(F.adaptive_avg_pool2d(low, 4))
        return high * torch.sigmoid(self.conv2(lrelu(g)))


class Block(nn.Module):
    def __init__(self, res, w_dim, zero_rgb=False):
        super().__init__()
        cin, cout = G_CHANNELS[res // 2], G_CHANNELS[res]
        self.convs = nn.ModuleList([ModConv(cin, cout, w_dim, up=True)])
        if res in DOUBLE:
            self.convs.append(ModConv(cout, cout, w_dim))
        self.to_rgb = ToRGB(cout, w_dim, zero=zero_rgb)


class StyleGenerator(nn.Module):
    def __init__(self, z_dim=128, w_dim=256, max_res=64):
        super().__init__()
        self.z_dim, self.w_dim, self.max_res = z_dim, w_dim, max_res
        self.mapping = Mapping(z_dim, w_dim)
        self.const = nn.Parameter(torch.randn(1, G_CHANNELS[4], 4, 4))
        self.conv4 = ModConv(G_CHANNELS[4], G_CHANNELS[4], w_dim)
        self.rgb4 = ToRGB(G_CHANNELS[4], w_dim)
        self.blocks = nn.ModuleDict()
        self.sle = nn.ModuleDict()
        for r in self.resolutions():
            self.add_block(r, zero_rgb=False)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def resolutions(self):
        return [2 ** i for i in range(3, int(math.log2(self.max_res)) + 1)]

    def add_block(self, res, zero_rgb=True):
        self.blocks[str(res)] = Block(res, self.w_dim, zero_rgb)
        if res >= 64:  # 8 -> 64, 16 -> 128
            low = res // 8
            self.sle[str(res)] = SLE(G_CHANNELS[low], G_CHANNELS[res])

    def grow(self):
        """Add the next resolution; its RGB starts at zero so the picture is unchanged."""
        self.max_res *= 2
        self.add_block(self.max_res, zero_rgb=True)

    def num_layers(self):
        return 2 + sum(len(b.convs) + 1 for b in self.blocks.values())

    def ws(self, z, psi=1.0):
        """z -> w broadcast to every layer, truncated toward the mean by psi."""
        w = self.mapping(z)
        if psi != 1.0:
            w = self.w_avg + psi * (w - self.w_avg)
        return w.unsqueeze(1).repeat(1, self.num_layers(), 1)

    def synthesis(self, ws):
        """ws [N, num_layers, w_dim] -> image [N, 3, max_res, max_res] in about [-1, 1]."""
        i = 0
        x = self.const.expand(ws.shape[0], -1, -1, -1).contiguous(memory_format=torch.channels_last)
        x = self.conv4(x, ws[:, i]); i += 1
        rgb = self.rgb4(x, ws[:, i]); i += 1
        feats = {4: x}
        for r in self.resolutions():
            blk = self.blocks[str(r)]
            for conv in blk.convs:
                x = conv(x, ws[:, i]); i += 1
            if str(r) in self.sle:
                x = self.sle[str(r)](feats[r // 8], x)
            feats[r] = x
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + blk.to_rgb(x, ws[:, i])
            i += 1
        return rgb

    def forward(self, z, psi=1.0):
        return self.synthesis(self.ws(z, psi))


class DBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.avg_pool2d(lrelu(self.bn(self.conv(x))), 2)


class StyleCritic(nn.Module):
    def __init__(self, max_res=64):
        super().__init__()
        self.max_res = max_res
        self.from_rgb = nn.ModuleDict()
        self.blocks = nn.ModuleDict()
        for r in [2 ** i for i in range(3, int(math.log2(max_res)) + 1)]:
            self.add_block(r)
        c4 = D_CHANNELS[4]
        self.conv4 = nn.Conv2d(c4 + 1, c4, 3, padding=1)
        self.fc1 = nn.Linear(c4 * 16, c4)
        self.fc2 = nn.Linear(c4, 1)

    def add_block(self, res):
        self.from_rgb[str(res)] = nn.Conv2d(3, D_CHANNELS[res], 1)
        self.blocks[str(res)] = DBlock(D_CHANNELS[res], D_CHANNELS[res // 2])

    def grow(self):
        self.max_res *= 2
        self.add_block(self.max_res)

    def forward(self, img, alpha=1.0):
        """alpha < 1 fades a newly grown input resolution in (ProGAN)."""
        res = img.shape[-1]
        x = self.blocks[str(res)](lrelu(self.from_rgb[str(res)](img)))
        if alpha < 1.0:
            old = lrelu(self.from_rgb[str(res // 2)](F.avg_pool2d(img, 2)))
            x = torch.lerp(old, x, alpha)
        r = res // 2
        while r > 4:
            x = self.blocks[str(r)](x)
            r //= 2
        group = min(4, x.shape[0])
        while x.shape[0] % group:
            group -= 1
        y = x.view(group, -1, *x.shape[1:])
        y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8).mean(dim=[1, 2, 3])
        y = y.view(-1, 1, 1, 1).repeat(group, 1, 4, 4)
        x = lrelu(self.conv4(torch.cat([x, y], dim=1)))
        x = lrelu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def gflops_per_image(G: StyleGenerator) -> float:
    """Multiply-adds x 2 of the synthesis convolutions (what dominates a frame)."""
    total, r = 0, 4
    total += G_CHANNELS[4] ** 2 * 9 * 16
    for res in G.resolutions():
        for conv in G.blocks[str(res)].convs:
            total += conv.conv.in_channels * conv.conv.out_channels * 9 * res * res
    return 2 * total / 1e9


def recalibrate_batchnorm(G: StyleGenerator, batches: int = 64, batch_size: int = 64, seed: int = 0) -> None:
    """Re-estimate batch-norm statistics for the EMA weights (see networks.recalibrate_batchnorm)."""
    gen = torch.Generator().manual_seed(seed)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    was = G.training
    G.train()
    with torch.no_grad():
        for _ in range(batches):
            G(torch.randn(batch_size, G.z_dim, generator=gen).to(G.w_avg.device))
    G.train(was)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
