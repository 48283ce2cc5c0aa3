"""Golden values for the Ledoit-Wolf shrinkage covariance (packages/components/src/gaussian.ts).

Reference: scikit-learn's sklearn.covariance.LedoitWolf (assume_centered=False, the default) — the estimator
used by CutPaste's Gaussian density (Runinho/pytorch-cutpaste density.py: LedoitWolf().fit(embeddings).precision_,
Mahalanobis distance sqrt((x-mu)^T P (x-mu)) with mu the training mean).

Run from the repository root:  python3 packages/components/test/golden/ledoit_wolf_golden.py
Writes ledoit_wolf_golden.json next to this script. Inputs are stored in the JSON (float32-exact values),
so the TypeScript test needs no random generator of its own.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.covariance import LedoitWolf, ledoit_wolf_shrinkage

rng = np.random.RandomState(20240501)


def f32(a):
    # round inputs to float32 first: the TypeScript side holds them in Float32Array
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def correlated(n, d, scale=1.0, offset=0.0):
    a = rng.randn(d, d) / np.sqrt(d)
    return f32(offset + scale * rng.randn(n, d) @ a)


cases = []
specs = [
    # name, train X, query X
    ("n>d correlated", correlated(120, 6, 2.0, 3.0), None),
    ("n<d (shrinkage needed)", correlated(10, 24, 1.0, -1.0), None),
    ("n=d anisotropic", f32(rng.randn(16, 16) * np.linspace(0.1, 5.0, 16)), None),
    ("large offset", correlated(60, 8, 0.5, 1000.0), None),
    ("one feature", f32(rng.randn(30, 1) * 3.0 + 2.0), None),
    ("two samples", f32(rng.randn(2, 5)), None),
    ("isotropic (shrinkage clipped at 1)", f32(rng.randn(400, 4)), None),
]
for name, x, _ in specs:
    n, d = x.shape
    q = f32(x.mean(0) + rng.randn(7, d) * x.std(0).max())
    lw = LedoitWolf().fit(x)  # assume_centered=False
    eig = np.linalg.eigvalsh(lw.covariance_)
    singular = bool(eig.min() <= 1e-10 * max(eig.max(), 1e-300))
    diff = q - lw.location_
    # a singular covariance has no Mahalanobis distance (sklearn would use the pseudo-inverse)
    maha = None if singular else np.sqrt(np.einsum("im,mn,in->i", diff, lw.precision_, diff)).tolist()
    cases.append(
        {
            "name": name,
            "n": n,
            "dim": d,
            "x": x.reshape(-1).tolist(),
            "queries": q.reshape(-1).tolist(),
            "location": lw.location_.tolist(),
            "covariance": lw.covariance_.reshape(-1).tolist(),
            "shrinkage": float(lw.shrinkage_),
            "shrinkageFn": float(ledoit_wolf_shrinkage(x)),
            "singular": singular,
            "mahalanobis": maha,
        }
    )

out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ledoit_wolf_golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {path}: " + ", ".join(f"{c['name']}: shrinkage {c['shrinkage']:.4f}" for c in cases))
