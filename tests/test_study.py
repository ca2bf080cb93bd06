"""bench/study/study.py end to end on a tiny study: 2 arms x 2 seeds of a tiny model on a
small labelled set, interrupted by SIGTERM during the third run, run again (finished runs
reused, the cut run resumed from its checkpoint, the rest run), and its report and plots
checked against the runs' own metrics. A bad study file is refused.

    python3 tests/test_study.py --build build
"""
import argparse
import gzip
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDY = os.path.join(ROOT, "bench", "study", "study.py")
STEPS = 200


def write_labelled_idx(folder, prefix, n, classes, seed):
    """28x28 images of `classes` bands over noise (as tests/eval_files.h), with labels."""
    rng = random.Random(seed)
    pixels, labels = bytearray(), bytearray()
    for i in range(n):
        c = i % classes
        labels.append(c)
        for y in range(28):
            for _ in range(28):
                noise = rng.randrange(32)
                pixels.append(200 + noise if 4 * c <= y < 4 * c + 8 else noise)
    with gzip.open(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(pixels))
    with gzip.open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))


def study_file(folder, data, **changes):
    s = {
        "name": "tiny",
        "data": data,
        "features": {"train_classifier": {"epochs": 2, "batch_size": 16}},
        "steps": STEPS,
        "seeds": [1, 2],
        "eval_every": 100,
        "eval_samples": 40,
        "target_fid": 1e6,
        "common": ["--nz", "8", "--batch-size", "4", "--device", "cpu", "--log-every", "1", "--sample-every", "0",
                   "--checkpoint-every", "5"],
        # K2's nets are wider: its runs take seconds, not a fraction of one, so the test's SIGTERM
        # lands inside K2-s1 even on a loaded machine.
        "arms": [{"name": "K1", "flags": ["--discriminators", "1", "--ngf", "4", "--ndf", "4"]},
                 {"name": "K2", "flags": ["--discriminators", "2", "--g-loss", "max", "--ngf", "48", "--ndf", "48"]}],
    }
    s.update(changes)
    path = os.path.join(folder, "study.json")
    with open(path, "w") as f:
        json.dump(s, f)
    return path


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_labelled_idx(tmp, "train", 240, 3, 1)
        write_labelled_idx(tmp, "t10k", 60, 3, 2)
        data = os.path.join(tmp, "train-images-idx3-ubyte.gz")
        out = os.path.join(tmp, "out")
        cmd = [sys.executable, STUDY, study_file(tmp, data), "--out", out, "--build", args.build]

        # 1. Interrupted during the third run (K2 seed 1), once it has logged a few steps.
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        third = os.path.join(out, "runs", "K2-s1", "metrics.jsonl")
        deadline = time.time() + 600
        while time.time() < deadline and p.poll() is None:
            if os.path.exists(third) and len(lines(third)) >= 10:
                p.send_signal(signal.SIGTERM)
                break
            time.sleep(0.002)
        first_out = p.communicate()[0]
        print(first_out)
        check(p.returncode == 143, f"the interrupted study exits 143 (got {p.returncode})")
        check("interrupted during" in first_out, "it says it was interrupted and how to continue")
        for run in ("K1-s1", "K1-s2"):
            check(os.path.exists(os.path.join(out, "runs", run, "study-run.json")), f"{run} finished before")
        check(not os.path.exists(os.path.join(out, "runs", "K2-s1", "study-run.json")), "K2-s1 is not finished")
        before = {run: open(os.path.join(out, "runs", run, "metrics.jsonl")).read() for run in ("K1-s1", "K1-s2")}
        cut = lines(third)[-1]["step"] if os.path.exists(third) else 0
        check(0 < cut < STEPS, f"K2-s1 was cut at step {cut} of {STEPS}")

        # 2. Run again: reused, resumed, ran.
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(r.stdout, r.stderr)
        check(r.returncode == 0, f"the study continues to the end (exit {r.returncode})")
        for line in ("K1 seed 1: reused", "K1 seed 2: reused", "K2 seed 1: resumed", "K2 seed 2: ran"):
            check(f"study: {line}" in r.stdout, line)
        for run, text in before.items():
            check(open(os.path.join(out, "runs", run, "metrics.jsonl")).read() == text, f"{run} untouched")
        steps = [m["step"] for m in lines(third) if "g_loss" in m]
        check(steps == list(range(1, STEPS + 1)), "the resumed run logs every step once")

        # 3. The report against the runs.
        report = open(os.path.join(out, "report.md")).read()
        print(report)
        for arm in ("K1", "K2"):
            best = [min(m["fid"] for m in lines(os.path.join(out, "runs", f"{arm}-s{s}", "metrics.jsonl")) if "fid" in m)
                    for s in (1, 2)]
            cell = f"| {arm} | {statistics.mean(best):.4g} ± {statistics.stdev(best):.2g} |"
            check(cell in report, f"the report's best FID of {arm}: {cell}")
        check("K2's best FID is " in report and "95% bootstrap interval" in report, "K2 compared with K1")
        check("reached FID <= 1000000.0 in" in report, "time to target compared")

        # 4. A bad study file, or a changed one: refused, naming what is wrong.
        bad = study_file(tmp, data, arms=[{"name": "A"}, {"name": "A"}])
        r = subprocess.run([sys.executable, STUDY, bad, "--out", out, "--build", args.build], capture_output=True,
                           text=True)
        check(r.returncode != 0 and "distinct name" in r.stderr, "duplicate arm names refused")
        changed = study_file(tmp, data, eval_samples=30)
        r = subprocess.run([sys.executable, STUDY, changed, "--out", out, "--build", args.build], capture_output=True,
                           text=True)
        check(r.returncode != 0 and "the study file changed" in r.stderr, "a changed study file refused")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("SKIPPED: the report's plots need matplotlib (python3 -m pip install matplotlib)")
            return
        for png in ("fid_vs_step.png", "fid_vs_seconds.png", "losses.png", "selection.png"):
            path = os.path.join(out, png)
            check(os.path.exists(path) and os.path.getsize(path) > 10000, f"{png} drawn")
            check(f"![{png}]({png})" in report, f"{png} in the report")


if __name__ == "__main__":
    main()
