"""The shape of a training step's cost before any GPU run: dg's launches, bytes and FLOPs per
step from the op shapes with a MODELLED step time on an H100 and an H200 (`dgbench model`,
bench/step_model.h), beside the operations PyTorch eager dispatches for the same step
(bench/pytorch/op_census.py, counted on the CPU); and the step's memory: dg's held arena peak
(`dgbench --device cpu train`, one step: equal on the GPU path, tests/test_gpu_memory.cpp)
beside PyTorch eager's peak of live tensor bytes (op_census.py). Writes
bench/results/<date>-step-model.md.

    python3 bench/step_model_report.py --build build-cpu   (needs PyTorch for the CPU)
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-cpu")
    ap.add_argument("--out", default="bench/results")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        dg_json, pt_json = os.path.join(tmp, "dg.jsonl"), os.path.join(tmp, "pt.jsonl")
        subprocess.run([os.path.join(args.build, "tools", "dgbench"), "--json", dg_json, "model", "--arch",
                        "dcgan32,dcgan64", "--k", "1,2", "--batch", "64,128"], check=True, stdout=subprocess.DEVNULL)
        held_json = os.path.join(tmp, "held.jsonl")
        subprocess.run([os.path.join(args.build, "tools", "dgbench"), "--device", "cpu", "--json", held_json,
                        "train", "--arch", "dcgan32,dcgan64", "--k", "1,2", "--batch", "64,128", "--warmup", "1",
                        "--steps", "1"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, os.path.join(here, "pytorch", "op_census.py"), "--batch", "64,128", "--json",
                        pt_json], check=True, stdout=subprocess.DEVNULL)
        dg = [json.loads(line) for line in open(dg_json)]
        held = {(r["arch"], r["k"], r["batch"]): r["held_mb"] for r in map(json.loads, open(held_json))
                if r.get("bench") == "train"}
        pt = {(r["arch"], r["k"], r["batch"]): r for r in map(json.loads, open(pt_json))}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    date = datetime.date.today().isoformat()
    torch_version = next(iter(pt.values()))["torch"]
    out = [f"# The shape of a training step's cost: dg's MODEL and PyTorch eager's operation count, {date}", "",
           f"- commit {commit}; command `python3 bench/step_model_report.py --build {args.build}` on a machine "
           "without a GPU (nothing here is measured on a GPU)",
           "- dg: `dgbench model` (bench/step_model.h): per step, the launches a replay of the step's CUDA graph "
           "runs (kernels, copies, cuDNN and cuBLAS calls, each call counted once; with K = 2 under `max`, the G "
           "step's backward through the chosen D only: the other D's conditional node skips its own), the bytes "
           "each op reads and writes (each operand once: a lower bound), the convolutions' FLOPs; "
           "tests/test_gpu_graph.cpp holds the launches a replay runs and the graph's nodes equal to the "
           "emulator's; `no graph` times count the step queued one by one, every D's backward included",
           "- **modelled** ms = FLOPs / TF32 rate + bytes / bandwidth + launches x launch cost, no overlap: "
           "TF32 494.7 TFLOP/s dense (H100/H200 SXM datasheets); bandwidth 3.0 TB/s (H100) and 4.3 TB/s (H200), "
           "device-to-device copies measured on these machines (the tool library's device/KINDS.md); launch cost "
           "**assumed** 1.5 us per graph node and 4 us per launch queued one by one (`no graph`)",
           f"- PyTorch {torch_version} eager: bench/pytorch/op_census.py, aten operations dispatched in one step "
           "of the same model and step (train_baseline.py; Adam's foreach path, PyTorch's CUDA default), counted "
           "on the CPU; `launching`: without views and empty allocations; on a GPU each is at least one kernel "
           "launch, all issued by the host one by one",
           "- memory, **planned**: dg's held peak is the arena's high-water mark without the ops' workspaces "
           "(engine/arena.h), measured over one step on the CPU backend; tests/test_gpu_memory.cpp holds the CUDA "
           "path's equal to it under the emulator. On a GPU, cuDNN's workspace of the algorithms its search picks "
           "comes on top (`dgbench train` prints both when there is one). PyTorch's: the peak of live tensor bytes "
           "in the same step on the CPU (op_census.py), what max_memory_allocated counts less cuDNN/cuBLAS "
           "workspace and the caching allocator's rounding. Both include the parameters, gradients, Adam's "
           "moments and the batch. Goal: dg <= 0.4x PyTorch eager's peak", "",
           "| model | K | batch | dg launches graph (queued) | PyTorch eager ops (launching) | dg MB/step | GFLOP/step "
           "| H100 ms graph / no graph (model) | H200 ms graph / no graph (model) | H200 img/s graph (model) "
           "| dg held MB (plan) | PyTorch live MB | dg / PyTorch |",
           "|" + " --- |" * 13]
    for r in dg:
        key = (r["arch"], r["k"], r["batch"])
        p, h = pt.get(key), held.get(key)
        ops = f"{p['aten_ops']} ({p['launching_ops']})" if p else "-"
        memory = f"{h:.0f} | {p['peak_live_mb']:.0f} | {h / p['peak_live_mb']:.2f}" if p and h else "- | - | -"
        out.append(f"| {r['arch']} | {r['k']} | {r['batch']} | {r['launches']} ({r['launches_queued']}) | {ops} | {r['mb']:.0f} | "
                   f"{r['gflop']:.1f} | {r['h100_ms_graph']:.3f} / {r['h100_ms_no_graph']:.3f} | "
                   f"{r['h200_ms_graph']:.3f} / {r['h200_ms_no_graph']:.3f} | "
                   f"{r['batch'] / (r['h200_ms_graph'] * 1e-3):.0f} | {memory} |")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{date}-step-model.md")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
