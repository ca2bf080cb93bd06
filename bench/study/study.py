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
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOOTSTRAP = 10000


def fail(msg):
    sys.exit(f"study: {msg}")


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


def json_lines(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


def checkpoints(folder):
    """A dg run's step_N.safetensors files, oldest first (not *.tmp, *.damaged or best)."""
    d = os.path.join(folder, "checkpoints")
    names = [n for n in os.listdir(d) if re.fullmatch(r"step_\d+\.safetensors", n)] if os.path.isdir(d) else []
    return [os.path.join(d, n) for n in sorted(names, key=lambda n: (len(n), n))]


class Runner:
    def __init__(self, study, out, dgtrain, dgeval):
        self.s, self.out, self.dgtrain, self.dgeval = study, out, dgtrain, dgeval
        self.child = None
        self.stop = 0

    def on_signal(self, sig, _frame):
        self.stop = sig
        if self.child:
            try:
                os.kill(self.child.pid, sig)  # dgtrain checkpoints, then exits 128 + sig
            except ProcessLookupError:
                pass

    def call(self, cmd, log):
        """Runs cmd with its output into log (appended); returns (exit code, peak RSS in KiB)."""
        with open(log, "a") as f:
            f.write("$ " + " ".join(cmd) + "\n")
            f.flush()
            self.child = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
            if self.stop:  # (a signal while it was being started)
                os.kill(self.child.pid, self.stop)
            _, status, usage = os.wait4(self.child.pid, 0)
            self.child.returncode = os.waitstatus_to_exitcode(status)
        code, self.child = self.child.returncode, None
        return (code if code >= 0 else 128 - code), usage.ru_maxrss

    def features(self):
        f = self.s["features"]
        if isinstance(f, str):
            if not os.path.exists(f):
                fail(f"features {f}: no such file")
            return os.path.abspath(f)
        path = os.path.join(self.out, "classifier.safetensors")
        if not os.path.exists(path):
            opts = f.get("train_classifier", {})
            cmd = [self.dgeval, "train-classifier", "--data", self.s["data"], "--out", path,
                   "--epochs", str(opts.get("epochs", 3)), "--batch-size", str(opts.get("batch_size", 64))]
            print("study: training the feature classifier for every arm: " + " ".join(cmd), flush=True)
            code, _ = self.call(cmd, os.path.join(self.out, "classifier.log"))
            if code != 0:
                if self.stop:
                    sys.exit(128 + self.stop)
                fail(f"dgeval train-classifier failed ({code}): see {self.out}/classifier.log")
        return path

    def run_flags(self, arm, seed, features):
        s = self.s
        flags = ["--data", s["data"], "--steps", str(s["steps"]), "--seed", str(seed)] + s["common"] + arm.get("flags", [])
        if arm.get("trainer", "dg") == "dg":
            flags += ["--eval-every", str(s["eval_every"]), "--eval-samples", str(s["eval_samples"]),
                      "--eval-features", features, "--dashboard", "off"]
        return flags  # (the target FID is the report's: a new target needs no new runs)

    def run_one(self, arm, seed, features):
        folder = os.path.join(self.out, "runs", f"{arm['name']}-s{seed}")
        marker = os.path.join(folder, "study-run.json")
        # What the run is (a finished or cut-short run made otherwise is refused, never mixed in).
        record = {"arm": arm["name"], "seed": seed, "flags": self.run_flags(arm, seed, features),
                  "samples": self.s["eval_samples"], "features": features}
        flags = record["flags"]
        intent = folder + ".intent.json"  # written before the run starts; the peak RSS over its launches
        for path in (marker, intent):
            if os.path.exists(path):
                with open(path) as f:
                    had = json.load(f)
                if {k: had.get(k) for k in ("flags", "samples", "features")} != \
                        {k: record[k] for k in ("flags", "samples", "features")}:
                    fail(f"{folder} was made with other settings ({' '.join(had['flags'])}, {had.get('samples')} "
                         f"samples, features {had.get('features')}): the study file changed; remove {folder} "
                         f"and {intent} to run it again")
        if os.path.exists(marker):
            return "reused"
        log = os.path.join(self.out, "runs", f"{arm['name']}-s{seed}.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        peak = 0
        if os.path.exists(intent):
            with open(intent) as f:
                peak = json.load(f).get("peak_rss_kib", 0)

        def save_intent():
            with open(intent + ".tmp", "w") as f:
                json.dump({**record, "peak_rss_kib": peak}, f)
            os.replace(intent + ".tmp", intent)

        save_intent()
        if arm.get("trainer", "dg") == "pytorch":
            code, rss = self.call([sys.executable, os.path.join(ROOT, "bench", "pytorch", "train_study_arm.py"),
                                   "--out", folder, "--samples", str(self.s["eval_samples"])] + flags, log)
            peak = max(peak, rss)
            if code == 0:
                scores = os.path.join(folder, "fid.jsonl")
                if os.path.exists(scores):
                    os.remove(scores)
                code, _ = self.call([self.dgeval, "fid", "--images", os.path.join(folder, "samples"), "--real",
                                     self.s["data"], "--features", features, "--samples", str(self.s["eval_samples"]),
                                     "--cache", self.out, "--json", scores], log)
            how = "ran (PyTorch)"
        else:
            if checkpoints(folder):
                cmd = [self.dgtrain, "--resume", folder, "--steps", str(self.s["steps"]), "--dashboard", "off"]
                how = "resumed"
            else:
                if os.path.exists(folder):
                    shutil.rmtree(folder)  # cut short before its first checkpoint: nothing to keep
                cmd = [self.dgtrain] + flags + ["--out", os.path.join(self.out, "runs"),
                                                "--run-name", f"{arm['name']}-s{seed}"]
                how = "ran"
            code, rss = self.call(self.s["launcher"] + cmd, log)
            peak = max(peak, rss)
        save_intent()
        if code != 0:
            if self.stop or code in (130, 143):
                print(f"study: interrupted during {folder}; run the same command to continue", flush=True)
                sys.exit(128 + self.stop if self.stop else code)
            fail(f"{folder} failed (exit {code}): see {log}")
        with open(marker + ".tmp", "w") as f:
            json.dump({**record, "peak_rss_kib": peak}, f)
        os.replace(marker + ".tmp", marker)
        return how

    def score_like_pytorch(self, folder, seed, features, flags):
        """The final generator of a dg run through the PyTorch arm's route: its weights in the
        PyTorch model write 8-bit PNGs, scored by dgeval fid --images (folder/png-fid.jsonl)."""
        scores = os.path.join(folder, "png-fid.jsonl")
        if os.path.exists(scores) and json_lines(scores)[-1]["samples"] == self.s["eval_samples"]:
            return  # (the features are the base run's own: its marker checked them)
        log = folder + ".log"
        if os.path.exists(os.path.join(folder, "png")):
            shutil.rmtree(os.path.join(folder, "png"))
        code, _ = self.call([sys.executable, os.path.join(ROOT, "bench", "pytorch", "train_study_arm.py"),
                             "--out", os.path.join(folder, "png"), "--samples", str(self.s["eval_samples"]),
                             "--samples-of", checkpoints(folder)[-1]] + flags, log)
        if code == 0:
            code, _ = self.call([self.dgeval, "fid", "--images", os.path.join(folder, "png", "samples"), "--real",
                                 self.s["data"], "--features", features, "--samples", str(self.s["eval_samples"]),
                                 "--cache", self.out, "--json", scores + ".tmp"], log)
        if code != 0:
            fail(f"scoring {folder}'s samples as PNGs failed (exit {code}): see {log}")
        os.replace(scores + ".tmp", scores)

    def run_all(self):
        os.makedirs(self.out, exist_ok=True)
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)
        features = self.features()
        for arm in self.s["arms"]:
            for seed in self.s["seeds"]:
                if self.stop:
                    sys.exit(128 + self.stop)
                how = self.run_one(arm, seed, features)
                print(f"study: {arm['name']} seed {seed}: {how}", flush=True)
        if any(a.get("trainer") == "pytorch" for a in self.s["arms"]):  # parity: the base arm scored alike
            base = self.s["arms"][0]
            for seed in self.s["seeds"]:
                folder = os.path.join(self.out, "runs", f"{base['name']}-s{seed}")
                self.score_like_pytorch(folder, seed, features, self.run_flags({**base, "trainer": "pytorch"}, seed, ""))
        return features


# ---------------------------------------------------------------- the report

def summarize_run(folder, target):
    """One run's numbers from its metrics.jsonl (dg) or fid.jsonl (PyTorch)."""
    with open(os.path.join(folder, "study-run.json")) as f:
        marker = json.load(f)
    lines = json_lines(os.path.join(folder, "metrics.jsonl"))
    train = [m for m in lines if "g_loss" in m]
    evals = [m for m in lines if "fid" in m]
    r = {"peak_rss_mib": marker["peak_rss_kib"] / 1024, "train": train, "evals": evals}
    if not evals:  # a PyTorch arm: its final FID only
        scores = json_lines(os.path.join(folder, "fid.jsonl"))
        info = json_lines(os.path.join(folder, "train.jsonl"))
        r.update(final_fid=scores[-1]["value"], best_fid=scores[-1]["value"], best_step=None, best_s=None,
                 is_best=None, target_step=None, target_s=None,
                 img_s=info[-1]["img_per_s"] if info else None)
        return r
    best = min(evals, key=lambda m: (m["fid"], m["step"]))
    hit = next((m for m in evals if target and m["fid"] <= target), None)
    r.update(final_fid=evals[-1]["fid"], best_fid=best["fid"], best_step=best["step"], best_s=best["wall_s"],
             is_best=best["is"], target_step=hit["step"] if hit else None, target_s=hit["wall_s"] if hit else None,
             img_s=statistics.median([m["img_per_s"] for m in train[1:] or train]))
    return r


def mean_std(values):
    v = [x for x in values if x is not None]
    if not v:
        return "-"
    if len(v) == 1:
        return f"{v[0]:.4g}"
    return f"{statistics.mean(v):.4g} ± {statistics.stdev(v):.2g}"


def bootstrap(a, b, stat, rng):
    """The 95% interval of stat(resample of a, resample of b), seeds resampled within each arm."""
    vals = sorted(stat([rng.choice(a) for _ in a], [rng.choice(b) for _ in b]) for _ in range(BOOTSTRAP))
    return vals[int(0.025 * BOOTSTRAP)], vals[int(0.975 * BOOTSTRAP) - 1]


def compare(base, arm, runs, key, target, rng):
    """A sentence comparing arm with base on key ('target_s', 'target_step' or 'best_fid')."""
    a = [r[key] for r in runs[base]]
    b = [r[key] for r in runs[arm]]
    if key != "best_fid":
        if None in a or None in b:
            return (f"{arm} vs {base}: not every seed reached FID <= {target} "
                    f"({sum(x is not None for x in b)}/{len(b)} and {sum(x is not None for x in a)}/{len(a)}), "
                    "so no time-to-target ratio")
        ratio = statistics.mean(b) / statistics.mean(a)
        lo, hi = bootstrap(a, b, lambda x, y: statistics.mean(y) / statistics.mean(x), rng)
        unit = "training seconds" if key == "target_s" else "steps"
        verdict = ("sooner" if hi < 1 else "later" if lo > 1 else
                   "no difference that these seeds can tell apart")
        return (f"{arm} reached FID <= {target} in {ratio:.2f}x the {unit} of {base} "
                f"(95% bootstrap interval over seeds {lo:.2f}-{hi:.2f}: {verdict})")
    diff = statistics.mean(b) - statistics.mean(a)
    lo, hi = bootstrap(a, b, lambda x, y: statistics.mean(y) - statistics.mean(x), rng)
    verdict = "better" if hi < 0 else "worse" if lo > 0 else "no difference that these seeds can tell apart"
    return (f"{arm}'s best FID is {diff:+.4g} against {base}'s "
            f"(95% bootstrap interval over seeds {lo:+.4g} to {hi:+.4g}: {verdict})")


def plots(study, runs, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("study: matplotlib is not installed: report without plots (python3 -m pip install matplotlib)")
        return []
    made = []
    dg_arms = [a["name"] for a in study["arms"] if a.get("trainer", "dg") == "dg"]

    def save(fig, name):
        fig.savefig(os.path.join(out, name), dpi=90)
        plt.close(fig)
        made.append(name)

    for axis, label, name in (("step", "step", "fid_vs_step.png"),
                              ("wall_s", "training seconds (evaluations excluded)", "fid_vs_seconds.png")):
        fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
        for i, arm in enumerate(dg_arms):
            color = f"C{i % 10}"
            curves = [r["evals"] for r in runs[arm]]
            n = min(len(c) for c in curves)
            xs = [statistics.mean(c[j][axis] for c in curves) for j in range(n)]
            fids = [[c[j]["fid"] for c in curves] for j in range(n)]
            for c in curves:
                ax.plot([m[axis] for m in c], [m["fid"] for m in c], color=color, lw=0.5, alpha=0.4)
            ax.plot(xs, [statistics.mean(f) for f in fids], color=color, lw=2, label=f"{arm} (mean of {len(curves)})")
            ax.fill_between(xs, [min(f) for f in fids], [max(f) for f in fids], color=color, alpha=0.15)
        if study["target_fid"]:
            ax.axhline(study["target_fid"], color="gray", ls=":", label=f"target {study['target_fid']}")
        ax.set(xlabel=label, ylabel="FID", title=f"{study['name']}: FID (thin: seeds; band: min-max)", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, name)

    fig, (gax, dax) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for i, arm in enumerate(dg_arms):
        train = [r["train"] for r in runs[arm]]
        n = min(len(t) for t in train)
        steps = [train[0][j]["step"] for j in range(n)]
        gax.plot(steps, [statistics.mean(t[j]["g_loss"] for t in train) for j in range(n)], color=f"C{i}", label=arm)
        dax.plot(steps, [statistics.mean(statistics.mean(x + y for x, y in zip(t[j]["d_real"], t[j]["d_fake"]))
                                         for t in train) for j in range(n)], color=f"C{i}", label=arm)
    gax.set(title="G loss (mean over seeds)", xlabel="step")
    dax.set(title="D loss, real + fake (mean over Ds and seeds)", xlabel="step")
    for a in (gax, dax):
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    save(fig, "losses.png")

    multi = [arm for arm in dg_arms if len(runs[arm][0]["train"][0]["selected"]) > 1]
    if multi:
        fig, axes = plt.subplots(1, len(multi), figsize=(5 * len(multi), 4), constrained_layout=True, squeeze=False)
        for ax, arm in zip(axes[0], multi):
            train = [r["train"] for r in runs[arm]]
            n, k = min(len(t) for t in train), len(train[0][0]["selected"])
            steps = [train[0][j]["step"] for j in range(n)]
            for d in range(k):
                share = [statistics.mean(t[j]["selected"][d] / max(sum(t[j]["selected"]), 1e-9) for t in train)
                         for j in range(n)]
                ax.plot(steps, share, label=f"D{d}")
            ax.set(title=f"{arm}: share of G's selections", xlabel="step", ylim=(-0.05, 1.05))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        save(fig, "selection.png")
    return made


def provenance():
    """The machine, dg's commit and the date, for the report's first line."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    import datetime
    return (f"report written {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu}, "
            f"{os.cpu_count()} cores; dg commit {commit} (the runs were made by the dgtrain of --build; the device "
            "each used is in its log under runs/)")


def report(study, out, features):
    runs = {}
    for arm in study["arms"]:
        runs[arm["name"]] = [summarize_run(os.path.join(out, "runs", f"{arm['name']}-s{seed}"), study["target_fid"])
                             for seed in study["seeds"]]
    rng = random.Random(12345)
    target = study["target_fid"]
    base = study["arms"][0]["name"]
    lines = [f"# {study['name']}", "", f"- {provenance()}",
             f"- data: `{study['data']}`; features: `{features}` (one network for every arm)",
             f"- budget: {study['steps']} steps per run; seeds {study['seeds']}; FID every {study['eval_every']} steps "
             f"on {study['eval_samples']} samples; target FID {target or '(none)'}",
             f"- common dgtrain flags: `{' '.join(study['common'])}`",
             "- arms: " + "; ".join(f"**{a['name']}** `{' '.join(a.get('flags', []))}`"
                                     + (" (PyTorch)" if a.get("trainer") == "pytorch" else "") for a in study["arms"]),
             "- mean ± standard deviation over seeds; training seconds exclude evaluations (metrics.jsonl wall_s);"
             " peak memory is the training process's peak RSS over its launches (host memory only)",
             "", "| arm | best FID | final FID | step of best | seconds to best | steps to target | "
             "seconds to target | reached target | IS at best | img/s | peak RSS MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for arm in study["arms"]:
        rs = runs[arm["name"]]
        reached = sum(r["target_step"] is not None for r in rs) if target and rs[0]["evals"] else None
        lines.append("| " + " | ".join([
            arm["name"], mean_std([r["best_fid"] for r in rs]), mean_std([r["final_fid"] for r in rs]),
            mean_std([r["best_step"] for r in rs]), mean_std([r["best_s"] for r in rs]),
            mean_std([r["target_step"] for r in rs]), mean_std([r["target_s"] for r in rs]),
            f"{reached}/{len(rs)}" if reached is not None else "-", mean_std([r["is_best"] for r in rs]),
            mean_std([r["img_s"] for r in rs]), mean_std([r["peak_rss_mib"] for r in rs])]) + " |")
    lines += ["", "## Comparisons with " + base, ""]
    for arm in study["arms"][1:]:
        if arm.get("trainer", "dg") != "dg":
            continue
        lines.append(f"- {compare(base, arm['name'], runs, 'best_fid', target, rng)}.")
        if target:
            lines.append(f"- {compare(base, arm['name'], runs, 'target_s', target, rng)}.")
            lines.append(f"- {compare(base, arm['name'], runs, 'target_step', target, rng)}.")
    torch_arms = [a["name"] for a in study["arms"] if a.get("trainer") == "pytorch"]
    if torch_arms:
        lines += ["", "## Parity with PyTorch", ""]
        for t in torch_arms:
            pt = [r["final_fid"] for r in runs[t]]
            for how, dg in (("as logged by dgtrain (float images)", [r["final_fid"] for r in runs[base]]),
                            ("its final generators scored like PyTorch's (8-bit PNGs, dgeval fid --images)",
                             [json_lines(os.path.join(out, "runs", f"{base}-s{seed}", "png-fid.jsonl"))[-1]["value"]
                              for seed in study["seeds"]])):
                inside = [min(pt) <= x <= max(pt) for x in dg]
                versus = compare(t, base, {t: [{"best_fid": x} for x in pt], base: [{"best_fid": x} for x in dg]},
                                 "best_fid", 0, rng).replace("best FID", "final FID")
                lines.append(f"- final FID after {study['steps']} steps, {base} (dg) {how}: "
                             f"{', '.join(f'{x:.4g}' for x in dg)}; {t} (PyTorch): {', '.join(f'{x:.4g}' for x in pt)}; "
                             f"{sum(inside)} of {len(dg)} dg seeds inside PyTorch's seed range "
                             f"[{min(pt):.4g}, {max(pt):.4g}]; {versus}.")
    made = plots(study, runs, out)
    if made:
        lines += ["", "## Plots", ""] + [f"![{m}]({m})" for m in made]
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"study: wrote {path}" + (f" and {', '.join(made)}" if made else ""))


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
