#!/usr/bin/env python3
"""Does a second discriminator make DCGAN better, sooner? Runs a study file's arms x seeds
through dgtrain (and, for arms with "trainer": "pytorch", bench/pytorch/train_study_arm.py
scored by dgeval), then writes report.md and its plots.

    python3 bench/study/study.py bench/study/fashion-mnist-cpu.json --out study-out
    python3 bench/study/study.py STUDY.json --out DIR --report-only   # redraw the report

Resumable: a finished run (its folder holds study-run.json with the same flags) is reused; a
run cut short resumes from its newest checkpoint (dgtrain --resume), or starts again when it
had none. Ctrl-C / SIGTERM reaches the running dgtrain, which writes a checkpoint first.

The study file (JSON):
  name              a title
  data              dgtrain --data (and the real set of every FID)
  features          a feature network file, or {"train_classifier": {"epochs": E, ...}}:
                    dgeval train-classifier makes one for the whole study (OUT/classifier.safetensors)
  steps             the budget of every run, in steps
  seeds             e.g. [1, 2, 3]
  eval_every, eval_samples, target_fid
  common            dgtrain flags of every arm, e.g. ["--ngf", "32", "--ndf", "32"]
  arms              [{"name": "K1", "flags": ["--discriminators", "1"]}, ...]; the first arm is
                    the baseline the others are compared with; "trainer": "pytorch" for
                    PyTorch's K=1 DCGAN (its final samples are scored with the same features)
  launcher          optional, e.g. ["mpirun", "-np", "2"] before dgtrain
"""
import argparse
import json
import os

from study_common import ROOT, fail
from study_report import report
from study_runs import Runner


def load_study(path):
    try:
        with open(path) as f:
            s = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: {e}")
    for key in ("name", "data", "features", "steps", "seeds", "eval_every", "eval_samples", "arms"):
        if key not in s:
            fail(f"{path}: no '{key}'")
    if not isinstance(s["steps"], int) or s["steps"] < 1:
        fail(f"{path}: steps must be a positive integer, got {s['steps']!r}")
    if not s["seeds"] or len(set(s["seeds"])) != len(s["seeds"]):
        fail(f"{path}: seeds must be distinct, got {s['seeds']!r}")
    names = [a.get("name") for a in s["arms"]]
    if not names or None in names or len(set(names)) != len(names):
        fail(f"{path}: every arm needs a distinct name, got {names!r}")
    for a in s["arms"]:
        if a.get("trainer", "dg") not in ("dg", "pytorch"):
            fail(f"{path}: arm {a['name']}: trainer must be dg or pytorch, got {a['trainer']!r}")
    if any(a.get("trainer") == "pytorch" for a in s["arms"]) and s["arms"][0].get("trainer", "dg") != "dg":
        fail(f"{path}: the first arm (the baseline, scored against the PyTorch arms) must be a dg arm")
    s.setdefault("common", [])
    s.setdefault("target_fid", 0)
    s.setdefault("launcher", [])
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", help="the study file (JSON)")
    ap.add_argument("--out", required=True, help="the study's folder (runs/, report.md, plots)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the CMake build folder with tools/dgtrain")
    ap.add_argument("--report-only", action="store_true", help="write the report from the finished runs")
    args = ap.parse_args()
    study = load_study(args.study)
    dgtrain, dgeval = (os.path.join(args.build, "tools", t) for t in ("dgtrain", "dgeval"))
    for b in (dgtrain, dgeval):
        if not os.path.exists(b):
            fail(f"no {b}: build it (cmake --build {args.build} --target dgtrain dgeval)")
    runner = Runner(study, os.path.abspath(args.out), dgtrain, dgeval)
    features = runner.features() if args.report_only else runner.run_all()
    report(study, os.path.abspath(args.out), features)


if __name__ == "__main__":
    main()
