"""Counts the aten operations PyTorch eager dispatches in one training step of the same model
and step as train_baseline.py, on the CPU: the PyTorch side of `dgbench model` (launches per
step), so that the shape of the comparison is visible before a GPU run.

On a GPU each counted operation is at least one CUDA kernel launch and several microseconds of
host work. Views and empty allocations launch nothing and are counted apart. Adam runs its
foreach implementation, PyTorch's default for CUDA tensors (on the CPU the default is the
per-parameter loop). The count is of the third step (the first steps create the optimizer's
state) and does not depend on the batch size.

The same step's memory: the high-water mark of the bytes held by live tensors (their storages,
each counted once; what torch.cuda.max_memory_allocated counts on a GPU, less the workspaces
cuDNN and cuBLAS take from the caching allocator and its rounding to 512 bytes): the parameters,
buffers, gradients, Adam's state and the batch alive when the step starts, plus every tensor an
operation of the step returns, from its creation until the last tensor on its storage dies.

    python3 bench/pytorch/op_census.py --arch dcgan32,dcgan64 --k 1,2 --batch 64,128 [--json out.jsonl]
"""
import argparse
import collections
import json
import os
import sys
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(__file__))
import dcgan  # noqa: E402
from train_baseline import make_step  # noqa: E402


class Census(TorchDispatchMode):
    """Counts the operations, and the bytes of live tensor storages: those of the tensors given
    (alive before the step) and of every tensor an operation returns, each until its last
    tracked tensor dies (zero_grad(set_to_none=True) frees the gradients given, for one)."""

    def __init__(self, alive):
        super().__init__()
        self.ops = collections.Counter()
        self.refs = {}                  # storage address -> [live tracked tensors on it, bytes]
        self.live = self.peak = 0
        for t in alive:
            self._track(t)

    def _dead(self, address):
        entry = self.refs[address]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self.refs[address]

    def _track(self, t):
        storage = t.untyped_storage()
        address = storage.data_ptr()
        if address == 0:
            return
        if address in self.refs:
            self.refs[address][0] += 1
        else:
            self.refs[address] = [1, storage.nbytes()]
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
        # (PyTorch keeps a tensor's Python object while the tensor lives, so this runs when the
        # tensor dies, not when Python drops its last reference)
        weakref.finalize(t, self._dead, address)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func] += 1
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out


def alive(modules, optimizers, tensors):
    """The modules' parameters, buffers and gradients, the optimizers' state, the tensors given."""
    held = list(tensors)
    for m in modules:
        held += list(m.buffers())
        for p in m.parameters():
            held += [p] + ([p.grad] if p.grad is not None else [])
    for opt in optimizers:
        held += [v for state in opt.state.values() for v in state.values() if isinstance(v, torch.Tensor)]
    return held


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
    with Census(alive([G] + Ds, [opt_g] + opt_ds, [real])) as c:
        step(real)
    total = sum(c.ops.values())
    silent = sum(n for f, n in c.ops.items() if launches_nothing(f))
    top = [(str(f), n) for f, n in c.ops.most_common(8)]
    return {"bench": "census-pytorch", "arch": arch, "k": k, "batch": batch, "torch": torch.__version__,
            "aten_ops": total, "launching_ops": total - silent, "views_and_empty": silent, "most": top,
            "peak_live_mb": c.peak / 2**20}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="dcgan32,dcgan64")
    ap.add_argument("--k", default="1,2")
    ap.add_argument("--batch", default="64", help="comma-separated (the operation count does not depend on it)")
    ap.add_argument("--json", help="append one JSON object per result")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"{'model':8} {'K':>2} {'batch':>5} {'aten ops':>9} {'launching':>10} {'views/empty':>12} {'peak MB':>8}")
    for arch in args.arch.split(","):
        for k in (int(x) for x in args.k.split(",")):
            for batch in (int(x) for x in args.batch.split(",")):
                r = census(arch, k, batch)
                print(f"{arch:8} {k:2d} {batch:5d} {r['aten_ops']:9d} {r['launching_ops']:10d} "
                      f"{r['views_and_empty']:12d} {r['peak_live_mb']:8.1f}")
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
