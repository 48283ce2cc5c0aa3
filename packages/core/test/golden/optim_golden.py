"""Golden values for core's Adam, SGD and lr schedules, from PyTorch (torch.optim.Adam / SGD, clip_grad_norm_,
torch.optim.lr_scheduler; float64).

    python3 packages/core/test/golden/optim_golden.py > packages/core/test/golden/optim_golden.json

Optimizers: four parameters (two of the same shape, as the optimizers stack same-shaped parameters), five steps with
fixed gradients, with clipping at 0.5 and without; records the parameters after every step and the pre-clip norm.
`missing` lists parameters given no gradient (grad None) at a step: torch leaves them, their state and their momentum
buffer's first-update rule alone. Schedules: the lr of every epoch of a run stepped once per epoch.
"""
import json
import math
import torch

torch.set_default_dtype(torch.float64)
SHAPES = {"a": [3, 4], "b": [3, 4], "c": [5], "d": [2, 2, 3]}


def values(shape, k):
    n = math.prod(shape)
    return [math.sin(0.7 * i + k) * (1 + 0.1 * i) for i in range(n)]


def run(name, make, opts, clip, missing=None, steps=5):
    missing = missing or {}
    params = {n: torch.tensor(values(s, 0.3 * j)).reshape(s).requires_grad_() for j, (n, s) in enumerate(SHAPES.items())}
    opt = make(params.values(), **opts)
    records = []
    for t in range(steps):
        grads = {n: [g * (t + 1) for g in values(s, 1.0 + t + j)] for j, (n, s) in enumerate(SHAPES.items()) if n not in missing.get(t, [])}
        for n, p in params.items():
            p.grad = torch.tensor(grads[n]).reshape(p.shape) if n in grads else None
        with_grad = [p for p in params.values() if p.grad is not None]
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(with_grad, clip)
        else:
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in with_grad))
        opt.step()
        records.append({"grads": grads, "norm": float(norm), "params": {n: p.detach().flatten().tolist() for n, p in params.items()}})
    return {"name": name, "optimizer": make.__name__.lower(), "opts": opts, "clip": clip, "missing": {str(k): v for k, v in missing.items()},
            "init": {n: values(s, 0.3 * j) for j, (n, s) in enumerate(SHAPES.items())}, "steps": records}


runs = []
for clip in (0.5, None):
    runs.append(run("adam weight decay", torch.optim.Adam, {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.05}, clip))
    runs.append(run("sgd momentum", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, clip))
    runs.append(run("sgd nesterov weight decay", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, clip))
runs.append(run("adam no weight decay", torch.optim.Adam, {"lr": 0.003, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.0}, 0.5))
runs.append(run("sgd plain weight decay", torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.02}, None))
runs.append(run("sgd momentum dampening, b and d start late", torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
                0.5, missing={0: ["b"], 1: ["b", "d"]}))


def lr_sequence(make, epochs, base=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


S = torch.optim.lr_scheduler


def warm(main, w, start):
    return lambda opt: S.SequentialLR(opt, [S.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=w), main(opt)], milestones=[w])


E = 14
schedules = [
    ({"kind": "step", "stepSize": 3, "gamma": 0.5}, lambda o: S.StepLR(o, 3, 0.5)),
    ({"kind": "multistep", "milestones": [4, 7, 7, 11], "gamma": 0.2}, lambda o: S.MultiStepLR(o, [4, 7, 7, 11], 0.2)),
    ({"kind": "cosine", "etaMin": 0.001}, lambda o: S.CosineAnnealingLR(o, T_max=E, eta_min=0.001)),
    ({"kind": "cosine"}, lambda o: S.CosineAnnealingLR(o, T_max=E)),
    ({"kind": "exponential", "gamma": 0.9}, lambda o: S.ExponentialLR(o, 0.9)),
    ({"kind": "constant"}, lambda o: S.LambdaLR(o, lambda e: 1.0)),
    ({"kind": "cosine", "etaMin": 0.002, "warmupEpochs": 3, "warmupStartFactor": 0.1},
     warm(lambda o: S.CosineAnnealingLR(o, T_max=E - 3, eta_min=0.002), 3, 0.1)),
    ({"kind": "multistep", "milestones": [2, 5], "gamma": 0.5, "warmupEpochs": 4},
     warm(lambda o: S.MultiStepLR(o, [2, 5], 0.5), 4, 1 / 3)),
    ({"kind": "constant", "warmupEpochs": 5, "warmupStartFactor": 0.01}, warm(lambda o: S.LambdaLR(o, lambda e: 1.0), 5, 0.01)),
]

print(json.dumps({"torch": torch.__version__, "shapes": SHAPES, "runs": runs, "epochs": E, "base_lr": 0.1,
                  "schedules": [{"config": c, "lrs": lr_sequence(m, E)} for c, m in schedules]}, indent=1))
