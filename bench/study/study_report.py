"""The study's report (bench/study/study.py): each run's numbers, the arms compared over seeds
(bootstrap intervals), PyTorch parity, and report.md with its plots."""
import json
import os
import random
import statistics
import subprocess

from study_common import ROOT, json_lines
from study_plots import plots

BOOTSTRAP = 10000


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
