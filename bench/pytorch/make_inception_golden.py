"""Writes tests/data/inception_golden.safetensors: the FID Inception-v3 (inception_fid.py)
with made-up weights, run by PyTorch in float32 on two small images, so dg's Inception
(models/inception.h) can be checked against it without the 95 MB weight file.

The weights are not stored: both sides compute them from each tensor's name with the same
integer hash (tests/hash_weights.h is the C++ twin), bit for bit:
  tensor t (names sorted bytewise, t counted from 1), element i:
    z = splitmix64((t << 32) + i);  u = (z >> 11) * 2^-53 * 2 - 1   (in [-1, 1), exact in double)
  conv weight: u * sqrt(6 / fan_in)      bn.weight: 1 + 0.1 u      bn.running_var: 1 + 0.25 u
  fc.weight: u * sqrt(3 / 2048)          everything else: 0.1 u
  each computed in double in that order, then rounded to float32.
Recorded: images (2, 3, 37, 41) in [-1, 1] (the same hash, tensor number 1000000), pool3
(2, 2048), logits (2, 1008).

Run wherever PyTorch is:  python3 bench/pytorch/make_inception_golden.py
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import inception_fid  # noqa: E402
import safetensors_io  # noqa: E402

MASK = (1 << 64) - 1


def uniform(tensor_number, n):
    """u in [-1, 1) for elements 0..n-1 of tensor `tensor_number`, as float64."""
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64((tensor_number << 32) & MASK)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53 * 2.0 - 1.0


def hash_value(name, shape, u):
    if name.endswith("conv.weight"):
        fan_in = shape[1] * shape[2] * shape[3]
        return u * math.sqrt(6.0 / fan_in)
    if name.endswith("bn.weight"):
        return 1.0 + 0.1 * u
    if name.endswith("running_var"):
        return 1.0 + 0.25 * u
    if name == "fc.weight":
        return u * math.sqrt(3.0 / 2048)
    return 0.1 * u


def main():
    torch.set_num_threads(2)
    net = inception_fid.InceptionFid().eval()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    for t, name in enumerate(sorted(state), start=1):
        shape = tuple(state[name].shape)
        u = uniform(t, int(np.prod(shape)))
        state[name].copy_(torch.from_numpy(hash_value(name, shape, u).astype(np.float32).reshape(shape)))
    images = torch.from_numpy(uniform(1000000, 2 * 3 * 37 * 41).astype(np.float32).reshape(2, 3, 37, 41))
    with torch.no_grad():
        pool3, logits = net(images)
    print("pool3: mean %.4f std %.4f; logits: std %.4f" % (pool3.mean(), pool3.std(), logits.std()))
    path = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "data", "inception_golden.safetensors"))
    safetensors_io.save(path, {"images": images, "pool3": pool3, "logits": logits},
                        {"format_version": 1, "torch": torch.__version__, "tensors": len(state)})
    print("wrote", path)


if __name__ == "__main__":
    main()
