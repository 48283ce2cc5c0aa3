#!/usr/bin/env python3
"""Golden values for PaDiM's per-position Gaussian + Mahalanobis distance (independent reference).

Reference computation as in the PaDiM paper / official code: for each grid position, mean and
np.cov(rowvar=False) (N − 1) of the training embeddings, Σ + 0.01·I, and
d = sqrt((x − μ)ᵀ Σ⁻¹ (x − μ)) with np.linalg.inv. Run: python3 padim_golden.py > padim_golden.json
"""
import itertools
import json

import numpy as np

rng = np.random.default_rng(7)
N, H, W, C, M = 12, 2, 3, 5, 4
P = H * W
# correlated channels and a distinct mean per position
A = rng.normal(size=(C, C))
mu = rng.normal(scale=3.0, size=(P, C))
train = (rng.normal(size=(N, P, C)) @ A) * 0.5 + mu[None]
test = (rng.normal(size=(M, P, C)) @ A) * 0.5 + mu[None]
test[1, 2] += 4.0  # one clearly anomalous patch
train = train.astype(np.float32)
test = test.astype(np.float32)
reg = 0.01


def maps(channels):
    out = np.zeros((M, P))
    for p in range(P):
        x = train[:, p, channels].astype(np.float64)
        mean = x.mean(0)
        cov = np.cov(x, rowvar=False) + reg * np.eye(len(channels))
        inv = np.linalg.inv(cov)
        for m in range(M):
            d = test[m, p, channels].astype(np.float64) - mean
            out[m, p] = np.sqrt(d @ inv @ d)
    return out.reshape(M, H, W)


expected = {",".join(map(str, s)): maps(list(s)).ravel().tolist() for s in itertools.combinations(range(C), 3)}
expected[",".join(map(str, range(C)))] = maps(list(range(C))).ravel().tolist()
print(json.dumps({
    "shape": {"N": N, "H": H, "W": W, "C": C, "M": M},
    "regularization": reg,
    "train": train.ravel().tolist(),
    "test": test.ravel().tolist(),
    "maps_by_channels": expected,
}))
