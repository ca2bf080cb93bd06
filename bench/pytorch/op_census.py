"""Counts the aten operations PyTorch eager dispatches in one training step of the same model
and step as train_baseline.py, on the CPU: the PyTorch side of `dgbench model` (launches per
step), so that the shape of the comparison is visible before a GPU run.

On a GPU each counted operation is at least one CUDA kernel launch and several microseconds of
host work. Views and empty allocations launch nothing and are counted apart. Adam runs its
foreach implementation, PyTorch's default for CUDA tensors (on the CPU the default is the
per-parameter loop). The count is of the third step (the first steps create the optimizer's
state) and does not depend on the batch size.

    python3 bench/pytorch/op_census.py --arch dcgan32,dcgan64 --k 1,2 [--json out.jsonl]
"""
import argparse
import collections
import json
import os
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(__file__))
import dcgan  # noqa: E402
from train_baseline import make_step  # noqa: E402


class Census(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func] += 1
        return func(*args, **(kwargs or {}))


def launches_nothing(func):
    name = func.overloadpacket.__name__
    return func.is_view or name in ("empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided")


def census(arch, k, batch):
    size = int(arch[len("dcgan"):])
    nz, nc = 100, 3
    torch.manual_seed(1)
    G = dcgan.generator(size, nz, 64, nc)
    Ds = [dcgan.discriminator(size, 64, nc) for _ in range(k)]
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True)
    opt_ds = [torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True) for D in Ds]
    real = torch.randn(batch, nc, size, size) * 0.5
    step = make_step(G, Ds, opt_g, opt_ds, nz, batch, torch.device("cpu"), amp=False)
    for _ in range(2):
        step(real)
    with Census() as c:
        step(real)
    total = sum(c.ops.values())
    silent = sum(n for f, n in c.ops.items() if launches_nothing(f))
    top = [(str(f), n) for f, n in c.ops.most_common(8)]
    return {"bench": "census-pytorch", "arch": arch, "k": k, "batch": batch, "torch": torch.__version__,
            "aten_ops": total, "launching_ops": total - silent, "views_and_empty": silent, "most": top}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="dcgan32,dcgan64")
    ap.add_argument("--k", default="1,2")
    ap.add_argument("--batch", type=int, default=4, help="the count does not depend on it")
    ap.add_argument("--json", help="append one JSON object per result")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"{'model':8} {'K':>2} {'aten ops':>9} {'launching':>10} {'views/empty':>12}")
    for arch in args.arch.split(","):
        for k in (int(x) for x in args.k.split(",")):
            r = census(arch, k, args.batch)
            print(f"{arch:8} {k:2d} {r['aten_ops']:9d} {r['launching_ops']:10d} {r['views_and_empty']:12d}")
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
