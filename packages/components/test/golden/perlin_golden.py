"""Golden values for perlinNoise (packages/components/src/augment/perlin.ts).

Reference: the gradient noise of DRAEM (VitjanZ/DRAEM perlin.py, rand_perlin_2d_np), computed here with numpy
the way that function lays it out: a coordinate grid np.mgrid[0:res0:delta0, 0:res1:delta1] % 1 with
delta = res / shape, lattice gradients (cos a, sin a) repeated shape // res times along each axis, the four
corner ramps with shifts (0,0), (-1,0), (0,-1), (-1,-1), the quintic fade, and the factor sqrt(2).
The gradient angles are stored in the JSON, so the TypeScript test feeds the same angles to its generator.

Run from the repository root:  python3 packages/components/test/golden/perlin_golden.py
"""
import json
import math
import os

import numpy as np


def fade(t):
    return ((6 * t - 15) * t + 10) * t ** 3


def draem_layout_noise(shape, res, angles):
    h, w = shape
    delta = (res[0] / h, res[1] / w)
    reps = (h // res[0], w // res[1])
    grid = np.mgrid[0 : res[0] : delta[0], 0 : res[1] : delta[1]].transpose(1, 2, 0) % 1
    grad = np.stack((np.cos(angles), np.sin(angles)), axis=-1)  # [res0 + 1, res1 + 1, 2]

    def tiled(r0, r1):
        g = grad[r0[0] : r0[1], r1[0] : r1[1]]
        return np.repeat(np.repeat(g, reps[0], axis=0), reps[1], axis=1)[:h, :w]

    def ramp(g, s0, s1):
        return (grid[:h, :w, 0] + s0) * g[..., 0] + (grid[:h, :w, 1] + s1) * g[..., 1]

    n00 = ramp(tiled((0, -1), (0, -1)), 0, 0)
    n10 = ramp(tiled((1, None), (0, -1)), -1, 0)
    n01 = ramp(tiled((0, -1), (1, None)), 0, -1)
    n11 = ramp(tiled((1, None), (1, None)), -1, -1)
    t = fade(grid[:h, :w])
    a = n00 + t[..., 0] * (n10 - n00)
    b = n01 + t[..., 0] * (n11 - n01)
    return math.sqrt(2) * (a + t[..., 1] * (b - a))


rng = np.random.RandomState(7)
cases = []
for (h, w), (r0, r1) in [((64, 64), (4, 2)), ((32, 48), (2, 8)), ((16, 16), (1, 1)), ((128, 64), (32, 16))]:
    # angles as the TypeScript generator makes them: 2*pi*u with u a multiple of 2^-32
    u = np.floor(rng.rand(r0 + 1, r1 + 1) * 2.0**32) / 2.0**32
    angles = 2 * math.pi * u
    noise = draem_layout_noise((h, w), (r0, r1), angles)
    cases.append(
        {
            "height": h,
            "width": w,
            "res": [r0, r1],
            "uniforms": u.reshape(-1).tolist(),
            "noise": [float(f"{v:.8g}") for v in noise.reshape(-1)],
        }
    )

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "perlin_golden.json")
with open(path, "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f)
print(f"wrote {path}: {len(cases)} cases, |noise| max {max(max(abs(v) for v in c['noise']) for c in cases):.4f}")
