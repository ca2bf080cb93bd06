"""PyTorch's side of `dgbench kernels`' convolution cases on the CPU: forward, backward-data
and backward-filter of every (transposed) convolution of dcgan32 and dcgan64 (G and D, RGB,
ngf = ndf = 64), one JSON line per case with dgbench's name and shape, so that the two pair up
(bench/conv_layers_vs_pytorch.py). NCHW float32, as the training baseline runs them; each
case times its op alone (aten.convolution_backward with one output asked for), the wall-clock
median of --repeats after two warm-up runs, under the caller's OMP_NUM_THREADS.

    OMP_NUM_THREADS=2 python3 bench/pytorch/conv_layers.py --batch 64 --json out.jsonl
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import dcgan  # noqa: E402


def median_us(fn, repeats):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def dims(*d):
    return "x".join(str(v) for v in d)


def cases(net, who, size, batch):
    """(name, shape, flops, {direction: fn}) for each convolution of `net` (dgbench's names)."""
    x_size = 1 if who == "G" else size
    gen = torch.Generator().manual_seed(1)
    for i, m in enumerate(net.main):
        if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            continue
        transposed = isinstance(m, nn.ConvTranspose2d)
        ci, co, k = m.in_channels, m.out_channels, m.kernel_size[0]
        stride, pad = m.stride[0], m.padding[0]
        out = (x_size - 1) * stride - 2 * pad + k if transposed else (x_size + 2 * pad - k) // stride + 1
        x = torch.randn(batch, ci, x_size, x_size, generator=gen)
        w = torch.randn(m.weight.shape, generator=gen) * 0.02
        dy = torch.randn(batch, co, out, out, generator=gen)
        pixels = x_size * x_size if transposed else out * out
        flops = 2.0 * batch * ci * co * k * k * pixels
        shape = f"{dims(batch, ci, x_size, x_size)} -> {dims(batch, co, out, out)} k{k} s{stride}"
        name = f"{who} main.{i}.weight {'convT' if transposed else 'conv'}"
        conv = F.conv_transpose2d if transposed else F.conv2d

        def backward(mask, x=x, w=w, dy=dy, stride=stride, pad=pad, transposed=transposed):
            return torch.ops.aten.convolution_backward(dy, x, w, None, [stride] * 2, [pad] * 2, [1, 1], transposed,
                                                       [0, 0], 1, mask)

        yield name, shape, flops, {
            "forward": lambda x=x, w=w, stride=stride, pad=pad, conv=conv: conv(x, w, stride=stride, padding=pad),
            "backward-data": lambda backward=backward: backward([True, False, False]),
            "backward-filter": lambda backward=backward: backward([False, True, False]),
        }
        x_size = out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", required=True, help="append one JSON object per case to this file")
    args = ap.parse_args()
    torch.manual_seed(1)
    with open(args.json, "a") as out, torch.no_grad():
        for size in (32, 64):
            nets = [("G", dcgan.generator(size, 100, 64, 3)), ("D0", dcgan.discriminator(size, 64, 3))]
            for who, net in nets:
                for name, shape, flops, fns in cases(net, who, size, args.batch):
                    for direction, fn in fns.items():
                        us = median_us(fn, args.repeats)
                        rec = {"bench": "pytorch-conv", "name": f"{name} {direction}", "shape": shape, "us": us,
                               "tflop_s": flops / us / 1e6, "threads": torch.get_num_threads(),
                               "torch": torch.__version__}
                        out.write(json.dumps(rec) + "\n")
                        print(f"{rec['name']:<40} {shape:<36} {us:10.1f} us {rec['tflop_s']:.3f} TFLOP/s", flush=True)


if __name__ == "__main__":
    main()
