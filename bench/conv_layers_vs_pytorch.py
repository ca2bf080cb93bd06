"""dg's CPU convolutions against PyTorch's (oneDNN), layer by layer, side by side in one run.

For each round: `dgbench --device cpu kernels` (its convolution cases: forward, backward-data
and backward-filter of every layer of dcgan32 and dcgan64, G and D, RGB) and then
bench/pytorch/conv_layers.py (the same ops through PyTorch, NCHW float32, as its training
baseline runs them), under the same OMP_NUM_THREADS. Writes
bench/results/<date>-cpu-conv-layers.md: per op the median time of each side over the rounds
and the median of the paired ratios PyTorch / dg (above 1: dg is faster). Where the step-level
table (bench/cpu_vs_pytorch.py) falls short, this says which convolutions are behind.

    python3 bench/conv_layers_vs_pytorch.py --build build-cpu
"""
import argparse
import datetime
import os
import statistics
import sys
import tempfile

from cpu_vs_pytorch import HERE, cpu_capability, cpu_model, git, json_lines, run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the CMake build folder holding tools/dgbench")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats of each op per round (the median)")
    ap.add_argument("--steps", type=int, default=6, help="timed training steps per process (the median)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    dgbench = os.path.join(args.build, "tools", "dgbench")
    if not os.path.exists(dgbench):
        sys.exit(f"--build {args.build}: no {dgbench} (cmake --build {args.build} --target dgbench)")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    samples = {}  # (name, shape, side) -> [us per round]
    order = []  # (name, shape) as dgbench lists them
    steps = {}  # (arch, k, side) -> [ms per training step, per round]
    gflop = {}  # arch -> `dgbench model`'s convolution GFLOP per step, K = 1
    limits, torch_version = None, "?"
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            out = os.path.join(tmp, f"dg-{rnd}.jsonl")
            run([dgbench, "--device", "cpu", "--json", out, "kernels", "--batch", str(args.batch), "--repeats",
                 str(args.repeats)], env)
            for r in json_lines(out):
                if r["bench"] == "limits":
                    limits = r
                elif r["bench"] == "kernel" and " conv" in r["name"]:
                    key = (r["name"], r["shape"])
                    if rnd == 0:
                        order.append(key)
                    samples.setdefault(key + ("dg",), []).append(r["us"])
            out = os.path.join(tmp, f"pt-{rnd}.jsonl")
            run([sys.executable, os.path.join(HERE, "pytorch", "conv_layers.py"), "--batch", str(args.batch),
                 "--repeats", str(args.repeats), "--json", out], env)
            for r in json_lines(out):
                samples.setdefault((r["name"], r["shape"], "pt"), []).append(r["us"])
                torch_version = r["torch"]
            for arch in ("dcgan32", "dcgan64"):
                for k in (1, 2):
                    out = os.path.join(tmp, f"dg-{rnd}-{arch}-{k}.jsonl")
                    run([dgbench, "--device", "cpu", "--json", out, "train", "--arch", arch, "--k", str(k), "--batch",
                         str(args.batch), "--warmup", "2", "--steps", str(args.steps)], env)
                    dg = next(r for r in json_lines(out) if r["bench"] == "train")
                    steps.setdefault((arch, k, "dg"), []).append(dg["ms_per_step"])
                    out = os.path.join(tmp, f"pt-{rnd}-{arch}-{k}.jsonl")
                    run([sys.executable, os.path.join(HERE, "pytorch", "train_baseline.py"), "--device", "cpu", "--arch",
                         arch, "--k", str(k), "--batch", str(args.batch), "--modes", "eager", "--warmup", "2", "--steps",
                         str(args.steps), "--json", out], env)
                    pt = next(r for r in json_lines(out) if r["bench"] == "train-pytorch")
                    steps.setdefault((arch, k, "pt"), []).append(1e3 * args.batch / pt["img_per_s"])
            print(f"round {rnd + 1}/{args.rounds} done", flush=True)
        out = os.path.join(tmp, "model.jsonl")
        run([dgbench, "--json", out, "model", "--arch", "dcgan32,dcgan64", "--k", "1", "--batch", str(args.batch)], env)
        gflop = {r["arch"]: r["gflop"] for r in json_lines(out) if r["bench"] == "model"}

    missing = [k for k in order if k + ("pt",) not in samples]
    if missing:
        sys.exit(f"PyTorch has no case for {missing[0]} (bench/pytorch/conv_layers.py and dgbench disagree)")
    model, isa = cpu_model()
    date = datetime.date.today().isoformat()
    lines = [f"# dg vs PyTorch on the CPU, convolution by convolution: {model}, {date}", "",
             f"- machine: {model}, {os.cpu_count()} cores, {isa}; no GPU used",
             f"- commit: {git('rev-parse', '--short', 'HEAD')}{' (with uncommitted changes)' if git('status', '--porcelain', '--untracked-files=no') else ''}",
             f"- dg: `dgbench --device cpu kernels` from `{args.build}` (Release); {limits['device'] if limits else '?'}",
             f"- PyTorch {torch_version} eager (its CPU capability {cpu_capability()}), bench/pytorch/conv_layers.py: "
             "F.conv2d / F.conv_transpose2d and aten.convolution_backward with one output asked for, NCHW",
             f"- command: `python3 bench/conv_layers_vs_pytorch.py {' '.join(sys.argv[1:])}`",
             f"- both: batch {args.batch}, OMP_NUM_THREADS={args.threads}, the median of {args.repeats} timed runs "
             f"per op after warm-up; {args.rounds} round(s), each running dg's cases then PyTorch's",
             "- ms: the median over the rounds; ratio: the median over the rounds of PyTorch's time / dg's "
             "(paired within a round; above 1: dg is faster); TFLOP/s from dg's median", ""]
    head = "| op | shape | dg ms | dg TFLOP/s | PyTorch ms | PyTorch / dg |"
    lines += [head, "|" + " --- |" * 6]
    for name, shape in order:
        d, p = samples[(name, shape, "dg")], samples[(name, shape, "pt")]
        ratio = statistics.median(b / a for a, b in zip(d, p))
        lines.append(f"| {name} | {shape} | {statistics.median(d) / 1e3:.2f} | "
                     f"{flop_count(shape) / statistics.median(d) / 1e6:.3f} | {statistics.median(p) / 1e3:.2f} | "
                     f"{ratio:.2f} |")
    total_dg = sum(statistics.median(samples[k + ("dg",)]) for k in order)
    total_pt = sum(statistics.median(samples[k + ("pt",)]) for k in order)
    lines += ["", f"Sum over the ops (each once): dg {total_dg / 1e3:.1f} ms, PyTorch {total_pt / 1e3:.1f} ms, "
              f"PyTorch / dg {total_pt / total_dg:.2f}.", ""]
    lines += step_breakdown(order, samples, steps, gflop, args)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{date}-cpu-conv-layers.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[lines.index(head):]))
    print(f"wrote {path}")


# How many times a training step runs each convolution of a model with K discriminators (the
# step of DESIGN §5, `max`). dg: the D step runs each D on the real and the fake batch, with
# filter gradients and input gradients past the first layer; the G step runs every D forward and
# only the selected D backward (the CPU skips a D whose logit gradients are all zero), input
# gradients only. (For K = 1 these counts give `dgbench model`'s FLOPs per step exactly; for
# K = 2 less by the unselected D's backward, which the model counts, as the GPU runs it.) PyTorch (train_baseline.py, pytorch/examples' step): the same, but its G step's
# backward goes through every D (the gather's zeros included) and fills their filter gradients.
def runs_per_step(name, k, side):
    first = ".main.0." in "." + name.split(" ")[1]
    if name.startswith("G "):
        return {"forward": 1, "backward-filter": 1, "backward-data": 0 if first else 1}[name.split(" ")[-1]]
    op = name.split(" ")[-1]
    if side == "dg":
        return {"forward": 3 * k, "backward-filter": 2 * k, "backward-data": 1 if first else 2 * k + 1}[op]
    return {"forward": 3 * k, "backward-filter": 3 * k, "backward-data": k if first else 3 * k}[op]


def step_breakdown(order, samples, steps, gflop, args):
    """The training step's time split into its convolutions (the ops' times above, each times its
    runs per step) and the rest, per side: which part of the step the gap is in."""
    models, model = {}, -1
    for name, shape in order:  # dgbench lists dcgan32's G and D, then dcgan64's
        if name.startswith("G main.0.weight convT forward"):
            model += 1
        models.setdefault(("dcgan32", "dcgan64")[model], []).append((name, shape))
    for arch, ops in models.items():  # the counts checked against `dgbench model`'s FLOPs (K = 1)
        counted = sum(flop_count(sh) * runs_per_step(n, 1, "dg") for n, sh in ops) / 1e9
        if abs(counted - gflop[arch]) > 1e-3 * gflop[arch]:
            sys.exit(f"{arch}: runs_per_step counts {counted:.2f} GFLOP per step, dgbench model {gflop[arch]:.2f}")
    out = ["## The training step: its convolutions and the rest", "",
           f"Step: `dgbench --device cpu train` and bench/pytorch/train_baseline.py --device cpu (eager), the median of "
           f"{args.steps} steps after 2 warm-up steps, batch {args.batch}, in the same rounds. Convolutions: the sum "
           "over the ops above of the median time times the runs per step (runs_per_step in this script; PyTorch "
           "also runs every D's backward in the G step). That sum times the ops alone, so the rest (step minus "
           "convolutions: batchnorm, activations, losses, Adam, layout copies outside the ops, framework) is an "
           "estimate.", "",
           "| model | K | dg step ms | dg convolutions ms | dg rest ms | PyTorch step ms | PyTorch convolutions ms | "
           "PyTorch rest ms | step PyTorch / dg |", "|" + " --- |" * 9]
    for arch, ops in models.items():
        for k in (1, 2):
            conv = {side: sum(statistics.median(samples[(n, sh, side)]) / 1e3 * runs_per_step(n, k, side)
                              for n, sh in ops) for side in ("dg", "pt")}
            d, p = steps[(arch, k, "dg")], steps[(arch, k, "pt")]
            ratio = statistics.median(b / a for a, b in zip(d, p))
            row = [arch, str(k)]
            for side, t in (("dg", d), ("pt", p)):
                row += [f"{statistics.median(t):.0f}", f"{conv[side]:.0f}", f"{statistics.median(t) - conv[side]:.0f}"]
            out.append("| " + " | ".join(row + [f"{ratio:.2f}"]) + " |")
    return out + [""]


def flop_count(shape):
    """2 x batch x Ci x Co x k^2 x the pixels the kernel visits, from "BxCixHxW -> BxCoxHoxWo kK sS"."""
    src, rest = shape.split(" -> ")
    dst, k, s = rest.split(" ")
    b, ci, h, w = (int(v) for v in src.split("x"))
    _, co, ho, wo = (int(v) for v in dst.split("x"))
    kk = int(k[1:]) ** 2
    # A transposed convolution (it grows the image) visits each input pixel; a convolution each output one.
    pixels = h * w if ho * wo > h * w else ho * wo
    return 2.0 * b * ci * co * kk * pixels


if __name__ == "__main__":
    main()
