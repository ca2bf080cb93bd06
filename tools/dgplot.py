#!/usr/bin/env python3
"""Draws dg run folders as one PNG: losses, FID against training time, img/s, and each
discriminator's share of the generator's selections, from each run's metrics.jsonl.

    python3 tools/dgplot.py runs/a                        # -> runs/a/dashboard.png
    python3 tools/dgplot.py runs/a runs/b -o compare.png  # several runs overlaid

dgtrain runs it on its run folder at the end (--dashboard on). Exit status 3: matplotlib
is missing (python3 -m pip install matplotlib).
"""
import argparse
import json
import os
import sys


def read_run(folder):
    path = os.path.join(folder, "metrics.jsonl")
    train, evals = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                m = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"dgplot: {path}:{n}: not JSON ({e})")
            (evals if "fid" in m else train).append(m)
    return train, evals


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="run folders (each holds metrics.jsonl)")
    ap.add_argument("-o", "--out", help="the PNG (default: RUN/dashboard.png for one run)")
    ap.add_argument("--quiet", action="store_true", help="do not print the path written")
    args = ap.parse_args()
    if args.out is None and len(args.runs) > 1:
        ap.error("several runs need -o OUT.png")
    out = args.out or os.path.join(args.runs[0], "dashboard.png")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("dgplot: matplotlib is not installed (python3 -m pip install matplotlib)", file=sys.stderr)
        sys.exit(3)

    fig, ax = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    (loss_ax, fid_ax), (speed_ax, sel_ax) = ax
    several = len(args.runs) > 1
    for r, folder in enumerate(args.runs):
        train, evals = read_run(folder)
        name = os.path.basename(os.path.normpath(folder))
        color = f"C{r % 10}"
        prefix = f"{name}: " if several else ""
        steps = [m["step"] for m in train]
        k = len(train[0]["d_real"]) if train else 0
        loss_ax.plot(steps, [m["g_loss"] for m in train], color=color, lw=1.2, label=prefix + "G")
        for i in range(k):
            d = [m["d_real"][i] + m["d_fake"][i] for m in train]
            loss_ax.plot(steps, d, color=color, lw=0.8, ls=["--", ":", "-."][i % 3], label=f"{prefix}D{i} real + fake")
        if evals:
            fid_ax.plot([m["wall_s"] for m in evals], [m["fid"] for m in evals], "o-", color=color, ms=3,
                        label=f"{name} ({evals[-1]['features']})" if several else evals[-1]["features"])
        speed_ax.plot(steps, [m["img_per_s"] for m in train], color=color, lw=1, label=name if several else None)
        for i in range(k):
            share = []
            for m in train:
                total = sum(m["selected"])
                share.append(m["selected"][i] / total if total > 0 else float("nan"))
            sel_ax.plot(steps, share, color=color, lw=1, ls=["-", "--", ":", "-."][i % 4], label=f"{prefix}D{i}")
    loss_ax.set(title="losses", xlabel="step", ylabel="BCE")
    fid_ax.set(title="FID", xlabel="training seconds (evaluations excluded)", ylabel="FID")
    if not fid_ax.lines:
        fid_ax.text(0.5, 0.5, "no evaluations (dgtrain --eval-every N --eval-features F)", ha="center",
                    va="center", transform=fid_ax.transAxes, color="gray")
    speed_ax.set(title="speed", xlabel="step", ylabel="images / s")
    sel_ax.set(title="which D the generator learned from", xlabel="step", ylabel="share of selections",
               ylim=(-0.05, 1.05))
    for a in (loss_ax, fid_ax, speed_ax, sel_ax):
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7)
    fig.suptitle(", ".join(os.path.basename(os.path.normpath(f)) for f in args.runs), fontsize=10)
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=80)
    os.replace(tmp, out)
    if not args.quiet:
        print(f"dgplot: wrote {out}")


if __name__ == "__main__":
    main()
