"""Progressive generator and critic (Karras et al. 2018, "Progressive Growing of GANs")
built from DCGAN-style layers (Radford et al. 2016: batch norm, ReLU in G, LeakyReLU in D),
sized for a 2-core CPU: nearest-neighbour upsampling + one 3x3 convolution per
resolution (4-5x faster to train here than transposed convolutions), minibatch stddev in D.
A first version with PGGAN's pixel norm and no batch norm collapsed to one face here.

Resolutions double from 4x4 to `max_res`; `forward(x, res, alpha)` runs the network as
it exists at `res`, fading the newest block in with `alpha` in [0, 1].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16}


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class GBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.relu(self.bn(self.conv(x)))


class Generator(nn.Module):
    def __init__(self, latent=128, max_res=64):
        super().__init__()
        self.latent, self.max_res = latent, max_res
        c4 = CHANNELS[4]
        self.norm = PixelNorm()
        self.fc = nn.Linear(latent, c4 * 16, bias=False)
        self.bn4 = nn.BatchNorm2d(c4)
        self.blocks = nn.ModuleDict()
        self.to_rgb = nn.ModuleDict({"4": nn.Conv2d(c4, 3, 1)})
        res = 8
        while res <= max_res:
            self.blocks[str(res)] = GBlock(CHANNELS[res // 2], CHANNELS[res])
            self.to_rgb[str(res)] = nn.Conv2d(CHANNELS[res], 3, 1)
            res *= 2

    def forward(self, z, res=None, alpha=1.0):
        res = res or self.max_res
        x = self.fc(self.norm(z)).view(z.shape[0], CHANNELS[4], 4, 4)
        x = F.relu(self.bn4(x))
        if res == 4:
            return self.to_rgb["4"](x)
        r = 8
        while r < res:
            x = self.blocks[str(r)](x)
            r *= 2
        new = self.to_rgb[str(res)](self.blocks[str(res)](x))
        if alpha >= 1.0:
            return new
        old = F.interpolate(self.to_rgb[str(res // 2)](x), scale_factor=2, mode="nearest")
        return torch.lerp(old, new, alpha)


class DBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.avg_pool2d(lrelu(self.bn(self.conv(x))), 2)


class Critic(nn.Module):
    def __init__(self, max_res=64):
        super().__init__()
        self.max_res = max_res
        self.from_rgb = nn.ModuleDict()
        self.blocks = nn.ModuleDict()
        res = 4
        while res <= max_res:
            self.from_rgb[str(res)] = nn.Conv2d(3, CHANNELS[res], 1)
            if res > 4:
                self.blocks[str(res)] = DBlock(CHANNELS[res], CHANNELS[res // 2])
            res *= 2
        c4 = CHANNELS[4]
        self.conv4 = nn.Conv2d(c4 + 1, c4, 3, padding=1)
        self.fc1 = nn.Linear(c4 * 16, c4)
        self.fc2 = nn.Linear(c4, 1)

    def trunk(self, img, res=None, alpha=1.0):
        """Convolutional features down to 4x4; the part the dream passes reuse."""
        res = res or self.max_res
        x = lrelu(self.from_rgb[str(res)](img))
        if res > 4:
            x = self.blocks[str(res)](x)
            if alpha < 1.0:
                old = lrelu(self.from_rgb[str(res // 2)](F.avg_pool2d(img, 2)))
                x = torch.lerp(old, x, alpha)
            r = res // 2
            while r > 4:
                x = self.blocks[str(r)](x)
                r //= 2
        return x

    def forward(self, img, res=None, alpha=1.0):
        x = self.trunk(img, res, alpha)
        # Minibatch stddev: lets the critic see a batch's lack of variety (mode collapse).
        group = min(4, x.shape[0])
        while x.shape[0] % group:
            group -= 1
        y = x.view(group, -1, *x.shape[1:])
        y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8).mean(dim=[1, 2, 3])
        y = y.view(-1, 1, 1, 1).repeat(group, 1, 4, 4)
        x = lrelu(self.conv4(torch.cat([x, y], dim=1)))
        x = lrelu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class TrunkFeatures(nn.Module):
    """The critic's trunk at full resolution with every block's output exposed, for export."""

    def __init__(self, critic: Critic):
        super().__init__()
        self.critic = critic

    def forward(self, img):
        c = self.critic
        x = lrelu(c.from_rgb[str(c.max_res)](img))
        outs = [x]
        r = c.max_res
        while r > 4:
            x = c.blocks[str(r)](x)
            outs.append(x)
            r //= 2
        return tuple(outs)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def resolutions(max_res: int):
    return [2 ** i for i in range(3, int(math.log2(max_res)) + 1)]


def recalibrate_batchnorm(G: Generator, batches: int = 64, batch_size: int = 64, seed: int = 0) -> None:
    """Re-estimate G's batch-norm statistics for its own weights. The EMA generator's
    weights are an average, so the statistics tracked while training the live generator
    do not match them (that mismatch shifts colours); a fixed seed keeps exports repeatable."""
    gen = torch.Generator().manual_seed(seed)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all batches below
    was_training = G.training
    G.train()
    with torch.no_grad():
        for _ in range(batches):
            G(torch.randn(batch_size, G.latent, generator=gen))
    G.train(was_training)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
