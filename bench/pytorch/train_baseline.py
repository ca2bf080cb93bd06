"""The PyTorch baseline of `dgbench train`: the same DCGAN models (dcgan.py), the same step
and sizes, timed the same way, in four modes:
  eager         float32, TF32 convolutions (PyTorch's default)
  amp-bf16      eager under torch.autocast(bfloat16)
  compile       torch.compile of G and each D
  max-autotune  torch.compile(mode="max-autotune")
The step: K = 1 in pytorch/examples' order (fake = G(z); D on real, D on fake.detach(), D's
Adam step; G's loss on the updated D, G's Adam step); K >= 2 as DESIGN §5 `max`: each D its
own loss and Adam step, then G against the largest of the updated Ds' losses (argmax on the
device, gathered: no host sync). Timed with CUDA events per step after warm-up (the wall
clock on a CPU); peak memory from torch.cuda.max_memory_allocated, reset per configuration.
No .item() inside the timed steps.

    python3 bench/pytorch/train_baseline.py --arch dcgan32,dcgan64 --k 1,2 --batch 64 --json out.jsonl
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import dcgan  # noqa: E402

MODES = ["eager", "amp-bf16", "compile", "max-autotune"]


def make_step(G, Ds, opt_g, opt_ds, nz, batch, device, amp):
    ones = torch.ones(batch, device=device)
    zeros = torch.zeros(batch, device=device)

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)

    def step(real):
        z = torch.randn(batch, nz, 1, 1, device=device)
        with autocast():
            fake = G(z)
        for D, opt in zip(Ds, opt_ds):
            D.zero_grad(set_to_none=True)
            with autocast():
                loss_r = F.binary_cross_entropy_with_logits(D(real).view(-1).float(), ones)
            loss_r.backward()
            with autocast():
                loss_f = F.binary_cross_entropy_with_logits(D(fake.detach()).view(-1).float(), zeros)
            loss_f.backward()
            opt.step()
        G.zero_grad(set_to_none=True)
        with autocast():
            losses = torch.stack([F.binary_cross_entropy_with_logits(D(fake).view(-1).float(), ones) for D in Ds])
        loss_g = losses.gather(0, torch.argmax(losses).view(1)).squeeze(0) if len(Ds) > 1 else losses[0]
        loss_g.backward()
        opt_g.step()

    return step


def bench(arch, k, batch, mode, device, warmup, steps):
    size = int(arch[len("dcgan"):])
    nz, nc = 100, 3
    torch.manual_seed(1)
    G = dcgan.generator(size, nz, 64, nc).to(device)
    Ds = [dcgan.discriminator(size, 64, nc).to(device) for _ in range(k)]
    gen = torch.Generator().manual_seed(1)
    for m in [G] + Ds:
        dcgan.dcgan_init(m, gen)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_ds = [torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)) for D in Ds]
    if mode in ("compile", "max-autotune"):
        kw = {"mode": "max-autotune"} if mode == "max-autotune" else {}
        G = torch.compile(G, **kw)
        Ds = [torch.compile(D, **kw) for D in Ds]
    real = torch.randn(batch, nc, size, size, device=device) * 0.5
    step = make_step(G, Ds, opt_g, opt_ds, nz, batch, device, amp=(mode == "amp-bf16"))
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(warmup):
        step(real)
    times = []
    if cuda:
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(steps)]
        for a, b in events:
            a.record()
            step(real)
            b.record()
        torch.cuda.synchronize()
        times = [a.elapsed_time(b) for a, b in events]
    else:
        for _ in range(steps):
            t0 = time.perf_counter()
            step(real)
            times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    return {"bench": "train-pytorch", "mode": mode, "arch": arch, "k": k, "batch": batch, "ms_per_step": ms,
            "img_per_s": batch / (ms * 1e-3),
            "peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


def main():
    ap = argparse.ArgumentParser(description="PyTorch baseline of dgbench train")
    ap.add_argument("--arch", default="dcgan32,dcgan64")
    ap.add_argument("--k", default="1,2")
    ap.add_argument("--batch", default="32,64,128,256")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", help="append one JSON object per result")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True  # the algorithm chosen by measurement, as dg does
    out = open(args.json, "a") if args.json else None
    if out:
        out.write(json.dumps({"bench": "pytorch-env", "torch": torch.__version__,
                              "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
                              "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}) + "\n")
    for mode in args.modes.split(","):
        if mode not in MODES:
            sys.exit(f"--modes: unknown mode {mode!r} (one of {', '.join(MODES)})")
        for arch in args.arch.split(","):
            for k in map(int, args.k.split(",")):
                for batch in map(int, args.batch.split(",")):
                    r = bench(arch, k, batch, mode, device, args.warmup, args.steps)
                    print(f"{mode:13s} {arch:8s} K={k} batch {batch:4d}: {r['ms_per_step']:9.3f} ms/step "
                          f"{r['img_per_s']:9.0f} img/s  peak {r['peak_mb'] or 0:8.1f} MB", flush=True)
                    if out:
                        out.write(json.dumps(r) + "\n")
                        out.flush()
                    torch._dynamo.reset() if mode in ("compile", "max-autotune") else None


if __name__ == "__main__":
    main()
