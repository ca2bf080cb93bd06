"""PyTorch's K=1 DCGAN on the CPU for the study's parity arm (bench/study/study.py): the same
model (dcgan.py, DESIGN §4 init), data preparation (the IDX images bilinearly resized to the
model's size with half-pixel centres, as dg's data/resize.cpp, scaled to [-1, 1]), step
(pytorch/examples' order: D on real and on fake.detach(), D's Adam step, then G against the
updated D) and Adam settings as `dgtrain --discriminators 1`. At the end it writes
`--samples` images from the generator in eval mode as PNGs to OUT/samples/ for
`dgeval fid --images`, and OUT/train.jsonl with img/s.

Takes the subset of dgtrain's flags that the study passes (others are refused; --log-every,
--sample-every, --checkpoint-every, --keep-checkpoints are accepted and ignored):
    python3 bench/pytorch/train_study_arm.py --out DIR --samples 2000 --data fashion-mnist --steps 1500 --seed 1
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import dcgan  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n, h, w = struct.unpack(">IIII", data[:16])
    if magic != 0x803 or len(data) != 16 + n * h * w:
        sys.exit(f"{path}: not an IDX image file")
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(n, 1, h, w)


def png_bytes(gray):
    """An 8-bit gray PNG of a (H, W) uint8 tensor."""
    h, w = gray.shape
    raw = b"".join(b"\x00" + bytes(gray[y].tolist()) for y in range(h))
    chunk = lambda kind, body: (struct.pack(">I", len(body)) + kind + body +
                                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_samples(G, args):
    """args.samples images of G in eval mode as 8-bit PNGs in args.out/samples/."""
    os.makedirs(os.path.join(args.out, "samples"), exist_ok=True)
    G.eval()
    with torch.no_grad():
        for first in range(0, args.samples, 100):
            n = min(100, args.samples - first)
            x = G(torch.randn(n, args.nz, 1, 1))
            px = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)  # as dg writes its grids
            for i in range(n):
                with open(os.path.join(args.out, "samples", f"{first + i:06d}.png"), "wb") as f:
                    f.write(png_bytes(px[i, 0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--data", default="fashion-mnist")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--nz", type=int, default=100)
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr-g", type=float, default=2e-4)
    ap.add_argument("--lr-d", type=float, default=2e-4)
    ap.add_argument("--discriminators", type=int, default=1, choices=[1])
    for flag in ("--log-every", "--sample-every", "--checkpoint-every", "--keep-checkpoints"):  # dgtrain's run
        ap.add_argument(flag, help="accepted and ignored (what dgtrain writes, not how it trains)")
    ap.add_argument("--device", choices=["cpu", "auto"], default="cpu")
    ap.add_argument("--samples-of", metavar="CKPT", help="no training: write the samples of this dgtrain "
                    "checkpoint's generator (its weights in the same PyTorch model), to score dg's samples "
                    "exactly as PyTorch's are (8-bit PNGs through dgeval fid --images)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.samples_of:
        from safetensors.torch import load_file
        G = dcgan.generator(args.image_size, args.nz, args.ngf, 1)
        weights = {k: v for k, v in load_file(args.samples_of).items() if k.startswith("main.")}
        G.load_state_dict(weights, strict=True)
        write_samples(G, args)
        return
    path = FASHION if args.data == "fashion-mnist" else args.data
    images = read_idx_images(path).float()
    s = args.image_size
    data = F.interpolate(images, size=(s, s), mode="bilinear", align_corners=False) / 127.5 - 1.0
    G = dcgan.generator(s, args.nz, args.ngf, 1)
    D = dcgan.discriminator(s, args.ndf, 1)
    gen = torch.Generator().manual_seed(args.seed)
    dcgan.dcgan_init(G, gen)
    dcgan.dcgan_init(D, gen)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.5, 0.999))
    B = args.batch_size
    ones, zeros = torch.ones(B), torch.zeros(B)
    order, at = torch.randperm(len(data), generator=gen), 0
    t0 = time.perf_counter()
    for _ in range(args.steps):
        if at + B > len(data):  # a new epoch, reshuffled (the partial batch dropped)
            order, at = torch.randperm(len(data), generator=gen), 0
        real = data[order[at:at + B]]
        at += B
        fake = G(torch.randn(B, args.nz, 1, 1))
        D.zero_grad(set_to_none=True)
        loss_d = (F.binary_cross_entropy_with_logits(D(real).view(-1), ones) +
                  F.binary_cross_entropy_with_logits(D(fake.detach()).view(-1), zeros))
        loss_d.backward()
        opt_d.step()
        G.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(D(fake).view(-1), ones).backward()
        opt_g.step()
    seconds = time.perf_counter() - t0
    write_samples(G, args)
    with open(os.path.join(args.out, "train.jsonl"), "w") as f:
        f.write(json.dumps({"steps": args.steps, "seconds": seconds, "img_per_s": args.steps * B / seconds,
                            "threads": torch.get_num_threads(), "torch": torch.__version__}) + "\n")


if __name__ == "__main__":
    main()
