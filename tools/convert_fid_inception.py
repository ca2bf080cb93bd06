"""Converts the standard PyTorch FID Inception weight file (the one pytorch-fid uses,
pt_inception-2015-12-05-*.pth; you supply it, nothing is downloaded) into the safetensors
file dg's FID Inception loads (models/inception.h), under the same tensor names.

    python3 tools/convert_fid_inception.py pt_inception-2015-12-05-6726825d.pth inception.safetensors

Needs PyTorch (torch.load). Checks the file before writing: every tensor the FID network
needs is there with its shape (2048-d pool3, 1008 classes), and nothing else but BatchNorm's
num_batches_tracked counters (dropped) and the auxiliary classifier, if present (dropped)."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402

# name -> shape for the layers whose shapes identify the FID network (the rest are checked
# by dg when it loads the file).
EXPECTED = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pth", help="the FID Inception weights (a PyTorch state_dict)")
    ap.add_argument("out", help="where to write the safetensors file")
    args = ap.parse_args()
    state = torch.load(args.pth, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        sys.exit(f"{args.pth}: not a state_dict (got {type(state).__name__})")
    keep = {}
    for name, t in state.items():
        if name.endswith("num_batches_tracked") or name.startswith("AuxLogits."):
            continue
        if not torch.is_floating_point(t):
            sys.exit(f"{args.pth}: tensor {name} is {t.dtype}, expected floating point")
        keep[name] = t.float()
    for name, shape in EXPECTED.items():
        if name not in keep:
            sys.exit(f"{args.pth}: no tensor {name}: not the FID Inception weights")
        if tuple(keep[name].shape) != shape:
            sys.exit(f"{args.pth}: {name} has shape {tuple(keep[name].shape)}, the FID Inception's is {shape}")
    safetensors_io.save(args.out, keep, {"network": "inception-v3-fid", "source": os.path.basename(args.pth)})
    print(f"wrote {args.out}: {len(keep)} tensors, {sum(t.numel() for t in keep.values())} values")


if __name__ == "__main__":
    main()
