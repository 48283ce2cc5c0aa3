"""Golden values for core's AdamW + gradient clipping, from PyTorch (torch.optim.AdamW, clip_grad_norm_).

    python3 packages/core/test/golden/adamw_golden.py > packages/core/test/golden/adamw_golden.json

Four parameters (two of the same shape, as the optimizer stacks same-shaped parameters), five steps with fixed
gradients, once with clipping at 0.5 and once without; records the parameters after every step and the pre-clip norm.
"""
import json
import math
import torch

SHAPES = {"a": [3, 4], "b": [3, 4], "c": [5], "d": [2, 2, 3]}


def values(shape, k):
    n = math.prod(shape)
    return [math.sin(0.7 * i + k) * (1 + 0.1 * i) for i in range(n)]


def run(clip):
    params = {name: torch.tensor(values(s, 0.3 * j), dtype=torch.float64).reshape(s).requires_grad_() for j, (name, s) in enumerate(SHAPES.items())}
    opt = torch.optim.AdamW(params.values(), lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
    steps = []
    for t in range(5):
        grads = {name: [g * (t + 1) for g in values(s, 1.0 + t + j)] for j, (name, s) in enumerate(SHAPES.items())}
        for name, p in params.items():
            p.grad = torch.tensor(grads[name], dtype=torch.float64).reshape(p.shape)
        norm = torch.nn.utils.clip_grad_norm_(params.values(), clip) if clip else torch.sqrt(sum((p.grad ** 2).sum() for p in params.values()))
        opt.step()
        steps.append({"grads": grads, "norm": float(norm), "params": {n: p.detach().flatten().tolist() for n, p in params.items()}})
    init = {name: values(s, 0.3 * j) for j, (name, s) in enumerate(SHAPES.items())}
    return {"clip": clip, "init": init, "steps": steps}


print(json.dumps({"torch": torch.__version__, "shapes": SHAPES, "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.05,
                  "runs": [run(0.5), run(None)]}, indent=1))
