"""DCGAN generator and discriminator in PyTorch, built exactly like dg's models/dcgan.cpp
(DESIGN §4): no biases, nn.Sequential named `main`, the discriminator ends in a logit (no
Sigmoid). Shared by the golden-data script and the PyTorch baselines."""
import math

import torch
from torch import nn


def generator(image_size=32, nz=100, ngf=64, nc=1, act="relu", arch="dcgan"):
    start = 2 if arch == "seed32" else 4
    doublings = int(math.log2(image_size // start))
    ch = ngf * 2 ** (doublings - 1)
    act_layer = (lambda: nn.ReLU(True)) if act == "relu" else (lambda: nn.Mish(True))
    layers = [nn.ConvTranspose2d(nz, ch, start, 1, 0, bias=False), nn.BatchNorm2d(ch), act_layer()]
    for _ in range(1, doublings):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), act_layer()]
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
    return Wrapped(nn.Sequential(*layers))


def discriminator(image_size=32, ndf=64, nc=1, arch="dcgan"):
    end = 2 if arch == "seed32" else 4
    halvings = int(math.log2(image_size // end))
    ch = ndf
    layers = [nn.Conv2d(nc, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for _ in range(1, halvings):
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, inplace=True)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, end, 1, 0, bias=False)]
    return Wrapped(nn.Sequential(*layers))


class Wrapped(nn.Module):
    """Holds the Sequential as `main` so state_dict names are main.<i>.<param>."""

    def __init__(self, main):
        super().__init__()
        self.main = main

    def forward(self, x):
        return self.main(x)


def dcgan_init(module, generator_):
    """DESIGN §4: conv weights N(0, 0.02), BN gamma N(1, 0.02), beta 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator_)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator_)
            nn.init.zeros_(m.bias)
