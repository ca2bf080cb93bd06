"""The study report's plots (bench/study/study.py): FID against steps and seconds, the losses,
and the share of each discriminator in G's selections (matplotlib, when installed)."""
import os
import statistics


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
