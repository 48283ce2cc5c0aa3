# Golden values for the MFCN neck test: torch.nn.UpsamplingBilinear2d (align_corners=True), exactly as
# UniAD's models/necks/mfcn.py builds it (scale_factor = in_stride / out_stride), on deterministic inputs.
# Run: python3 packages/backbones/test/golden/backbone_neck_golden.py > packages/backbones/test/golden/backbone_neck_golden.json
import json, math
import torch

def inp(c, h, w, seed):
    # values sin(0.37·i + seed) over NCHW order; the test builds the same values
    n = c * h * w
    return torch.tensor([math.sin(0.37 * i + seed) for i in range(n)], dtype=torch.float32).reshape(1, c, h, w)

cases = []
for (c, h, stride, seed) in [(3, 56, 4, 0.0), (2, 28, 8, 1.0), (2, 7, 32, 2.0), (1, 5, 0, 3.0)]:
    x = inp(c, h, h, seed)
    if stride:
        up = torch.nn.UpsamplingBilinear2d(scale_factor=stride / 16)
    else:
        up = torch.nn.UpsamplingBilinear2d(size=(14, 14))
    y = up(x)
    assert y.shape[-1] == 14, y.shape
    cases.append({"c": c, "h": h, "seed": seed, "out": [round(v, 6) for v in y.permute(0, 2, 3, 1).reshape(-1).tolist()]})
print(json.dumps({"torch": torch.__version__, "cases": cases}))
