"""The study's runs (bench/study/study.py): each arm x seed through dgtrain (or the PyTorch arm's
script scored by dgeval), reused when finished, resumed when cut short, and the feature network
they share."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

from study_common import ROOT, fail, json_lines


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
