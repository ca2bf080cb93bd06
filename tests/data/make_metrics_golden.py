"""Writes tests/data/metrics_golden.json: FID and KID of two small feature sets computed the
standard way with numpy/scipy (scipy.linalg.sqrtm of S_a S_b, as pytorch-fid does), for
tests/test_metrics.cpp. The sets come from a formula that the C++ test evaluates the same
way (double, then rounded to float32), so no data file is needed:
    a[i, j] = sin(0.37 i + 1.3 j) + 0.3 sin(0.11 i (j + 1)) + 0.1 j
    b[i, j] = cos(0.23 i - 0.7 j) (1 + 0.05 j) + 0.25 cos(0.07 i (j + 2)) + 0.2
(The second terms give every column its own frequency, so both covariances have full rank:
without them every column is a phase-shifted sine and the covariances have rank 2.)
Run: python3 tests/data/make_metrics_golden.py   (numpy and scipy: Debian's python3-numpy,
python3-scipy, or pip)."""
import json
import os

import numpy as np
import scipy
from scipy import linalg

N, D = 60, 8


def features():
    i = np.arange(N, dtype=np.float64)[:, None]
    j = np.arange(D, dtype=np.float64)[None, :]
    a = np.sin(0.37 * i + 1.3 * j) + 0.3 * np.sin(0.11 * i * (j + 1)) + 0.1 * j
    b = np.cos(0.23 * i - 0.7 * j) * (1 + 0.05 * j) + 0.25 * np.cos(0.07 * i * (j + 2)) + 0.2
    a, b = (x.astype(np.float32).astype(np.float64) for x in (a, b))
    return a, b


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def kid_full(a, b):
    """Unbiased MMD^2, cubic kernel (x.y/d + 1)^3, on the whole sets (one 'subset')."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    m = a.shape[0]
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.sum() / (m * m))


def main():
    a, b = features()
    out = {"n": N, "d": D, "fid_ab": fid(a, b), "fid_ba": fid(b, a), "kid_ab": kid_full(a, b),
           "numpy": np.__version__, "scipy": scipy.__version__}
    path = os.path.join(os.path.dirname(__file__), "metrics_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"wrote {path}: {out}")


if __name__ == "__main__":
    main()
