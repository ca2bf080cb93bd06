"""Formats dgbench train and the PyTorch baseline (JSON lines from bench/compare.sh) into
bench/results/<date>-<device>.md: per configuration dg's img/s and peak MB next to each
PyTorch mode's, with the ratios (dg / PyTorch for img/s, PyTorch / dg for memory: above 1
means dg is faster / leaner), plus commit, device, driver and library versions."""
import argparse
import datetime
import json
import os
import re
import subprocess


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dg_json")
    ap.add_argument("pytorch_json")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--command", default="bash bench/compare.sh")
    args = ap.parse_args()
    dg, pt = lines(args.dg_json), lines(args.pytorch_json)
    limits = next(r for r in dg if r["bench"] == "limits")
    env = next((r for r in pt if r["bench"] == "pytorch-env"), {})
    modes = []
    for r in pt:
        if r["bench"] == "train-pytorch" and r["mode"] not in modes:
            modes.append(r["mode"])
    theirs = {(r["mode"], r["arch"], r["k"], r["batch"]): r for r in pt if r["bench"] == "train-pytorch"}

    date = datetime.date.today().isoformat()
    device = env.get("device") or limits["device"].split(":")[0]
    out = [f"# dg vs PyTorch, training steps: {device}, {date}", "",
           f"- commit: {run(['git', 'rev-parse', '--short', 'HEAD'])}",
           f"- device: {limits['device']}; copy {limits['copy_gb_s']:.0f} GB/s, GEMM {limits['gemm_tflop_s']:.1f} TFLOP/s",
           f"- driver: {run(['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'])}",
           f"- PyTorch {env.get('torch')}, its cuDNN {env.get('cudnn')}",
           f"- command: `{args.command}`",
           "- dg: `dgbench train` (median ms/step after warm-up, CUDA events; peak = dg's arena high-water mark; held = "
           "the same without the ops' workspaces, cuDNN's included: the CPU's plan of it); "
           "PyTorch: bench/pytorch/train_baseline.py (median of CUDA-event step times; peak = "
           "torch.cuda.max_memory_allocated). Same models, K-discriminator step, batch and TF32 convolutions.",
           "- ratios: img/s dg / PyTorch (above 1: dg faster); peak PyTorch / dg (above 1: dg leaner)", ""]
    head = "| model | K | batch | dg CUDA graph | dg img/s | " + " | ".join(f"{m} img/s (ratio)" for m in modes) + \
           " | dg peak MB | dg held MB | " + " | ".join(f"{m} MB (ratio)" for m in modes) + " |"
    out += [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in (r for r in dg if r["bench"] == "train"):
        graph = ("on, %d nodes" % r["graph_nodes"]) if r.get("cuda_graph") and r.get("graph_nodes") else \
            "failed" if r.get("cuda_graph") else "off"
        row = [r["arch"], str(r["k"]), str(r["batch"]), graph, f"{r['img_per_s']:.0f}"]
        for m in modes:
            t = theirs.get((m, r["arch"], r["k"], r["batch"]))
            row.append(f"{t['img_per_s']:.0f} ({r['img_per_s'] / t['img_per_s']:.2f}x)" if t else "-")
        row += [f"{r['peak_mb']:.0f}", f"{r['held_mb']:.0f}" if "held_mb" in r else "-"]
        for m in modes:
            t = theirs.get((m, r["arch"], r["k"], r["batch"]))
            row.append(f"{t['peak_mb']:.0f} ({t['peak_mb'] / r['peak_mb']:.2f}x)" if t and t["peak_mb"] else "-")
        out.append("| " + " | ".join(row) + " |")
    out += ["", "MFU (dg, against the GEMM rate above): " + ", ".join(
        f"{r['arch']} K={r['k']} b{r['batch']}{' graph' if r.get('cuda_graph') else ''}: {100 * r['mfu']:.1f}%"
        for r in dg if r["bench"] == "train")]
    os.makedirs(args.out, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")
    path = os.path.join(args.out, f"{date}-{slug}.md")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
