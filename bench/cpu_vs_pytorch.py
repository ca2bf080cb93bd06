"""dg's CPU training step against PyTorch's, side by side on this machine, in one run.

For each round, thread count, model and K: `dgbench --device cpu train` (one process) and then
bench/pytorch/train_baseline.py on the CPU (eager; with --compile also torch.compile), both
under the same OMP_NUM_THREADS, same model (RGB, nz 100, ngf = ndf = 64), same algorithm
(DESIGN §5 `max`) and batch. Runs of one configuration are paired within a round, so drift of
a shared VM between rounds cancels in the ratios. Writes bench/results/<date>-cpu-vs-pytorch.md:
per configuration the median img/s of each side over the rounds and the median of the paired
ratios dg / PyTorch (above 1: dg is faster).

    python3 bench/cpu_vs_pytorch.py --build build-cpu            # the table of issue #15
    python3 bench/cpu_vs_pytorch.py --arch dcgan32 --k 2 --threads 2 --rounds 1   # a quick one
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


def json_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or "unknown CPU", "unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    isa = "AVX-512F" if "avx512f" in flags else "AVX2 + FMA" if "avx2" in flags and "fma" in flags else "no AVX2"
    return model, isa


def git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the CMake build folder holding tools/dgbench")
    ap.add_argument("--arch", default="dcgan32,dcgan64")
    ap.add_argument("--k", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--compile", action="store_true", help="also PyTorch's torch.compile (inductor) on the CPU")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    dgbench = os.path.join(args.build, "tools", "dgbench")
    if not os.path.exists(dgbench):
        sys.exit(f"--build {args.build}: no {dgbench} (cmake --build {args.build} --target dgbench)")
    archs, ks = args.arch.split(","), [int(k) for k in args.k.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    modes = ["eager"] + (["compile"] if args.compile else [])

    samples = {}  # (threads, arch, k, side) -> [img/s per round]
    limits = {}
    env_pt = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for t in threads:
                env = dict(os.environ, OMP_NUM_THREADS=str(t))
                for arch in archs:
                    for k in ks:
                        out = os.path.join(tmp, f"dg-{rnd}-{t}-{arch}-{k}.jsonl")
                        run([dgbench, "--device", "cpu", "--json", out, "train", "--arch", arch, "--k", str(k),
                             "--batch", str(args.batch), "--warmup", str(args.warmup), "--steps", str(args.steps)],
                            env)
                        rows = json_lines(out)
                        limits[t] = next(r for r in rows if r["bench"] == "limits")
                        dg = next(r for r in rows if r["bench"] == "train")
                        samples.setdefault((t, arch, k, "dg"), []).append(dg["img_per_s"])
                        out = os.path.join(tmp, f"pt-{rnd}-{t}-{arch}-{k}.jsonl")
                        run([sys.executable, os.path.join(HERE, "pytorch", "train_baseline.py"), "--device", "cpu",
                             "--arch", arch, "--k", str(k), "--batch", str(args.batch), "--modes", ",".join(modes),
                             "--warmup", str(args.warmup), "--steps", str(args.steps), "--json", out], env)
                        for r in json_lines(out):
                            if r["bench"] == "pytorch-env":
                                env_pt = r
                            elif r["bench"] == "train-pytorch":
                                samples.setdefault((t, arch, k, r["mode"]), []).append(r["img_per_s"])
                        line = f"round {rnd + 1}/{args.rounds}, {t} thread(s), {arch} K={k}: dg {dg['img_per_s']:.1f} img/s"
                        for m in modes:
                            line += f", PyTorch {m} {samples[(t, arch, k, m)][-1]:.1f}"
                        print(line, flush=True)

    model, isa = cpu_model()
    date = datetime.date.today().isoformat()
    dg_kernel = limits[threads[0]]["device"]
    lines = [f"# dg vs PyTorch on the CPU, training steps: {model}, {date}", "",
             f"- machine: {model}, {os.cpu_count()} cores, {isa}; no GPU used",
             f"- commit: {git('rev-parse', '--short', 'HEAD')}{' (with uncommitted changes)' if git('status', '--porcelain', '--untracked-files=no') else ''}",
             f"- dg: `dgbench --device cpu train` from `{args.build}` (Release); {dg_kernel}",
             f"- PyTorch {env_pt.get('torch')} ({', '.join(modes)}), bench/pytorch/train_baseline.py --device cpu, "
             f"its CPU capability {cpu_capability()}",
             f"- command: `python3 bench/cpu_vs_pytorch.py {' '.join(sys.argv[1:])}`",
             f"- both: dcgan RGB, batch {args.batch}, K discriminators, `max` (DESIGN §5), {args.warmup} warm-up "
             f"and {args.steps} timed steps per process, the median step; the same OMP_NUM_THREADS; "
             f"{args.rounds} round(s), each running every configuration once on each side, one after the other",
             "- img/s: the median over the rounds; ratio: the median over the rounds of dg / PyTorch "
             "(paired within a round; above 1: dg is faster)", ""]
    head = "| threads | model | K | dg img/s | " + " | ".join(f"PyTorch {m} img/s | dg / {m}" for m in modes) + " |"
    lines += [head, "|" + " --- |" * (head.count("|") - 1)]
    for t in threads:
        for arch in archs:
            for k in ks:
                d = samples[(t, arch, k, "dg")]
                row = [str(t), arch, str(k), f"{statistics.median(d):.1f}"]
                for m in modes:
                    p = samples[(t, arch, k, m)]
                    ratio = statistics.median(a / b for a, b in zip(d, p))
                    row += [f"{statistics.median(p):.1f}", f"{ratio:.2f}"]
                lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Every sample (img/s, round by round):", ""]
    for key, v in sorted(samples.items()):
        lines.append(f"- {key[0]} thread(s) {key[1]} K={key[2]} {key[3]}: " + ", ".join(f"{x:.1f}" for x in v))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{date}-cpu-vs-pytorch.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[lines.index(head):lines.index(head) + 2 + len(threads) * len(archs) * len(ks)]))
    print(f"wrote {path}")


def cpu_capability():
    try:
        return run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"]).strip()
    except SystemExit:
        return "unknown"


if __name__ == "__main__":
    main()
