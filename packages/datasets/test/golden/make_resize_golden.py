"""Golden values for the datasets package's resizing, computed with Pillow (independent reference).

Pillow's Image.resize(BILINEAR) is the triangle filter on pixel centres that widens when shrinking
(antialiased) -- the convention loadImage follows (when shrinking, libvips computes it with edge
replication instead of Pillow's renormalised kernel, so the outermost output row/column may differ);
masks use nearest on pixel centres, src = floor((i+0.5)*in/out). The test (resize.test.ts) builds the same input arrays from the same
formulas, writes them as PNG, loads them through the package and compares.

Run: python3 make_resize_golden.py   (Pillow 12.3.0 was used; writes resize_golden.json)
"""
import base64, json
import numpy as np
from PIL import Image, __version__ as pil_version


def rgb_pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    chans = [(x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 9) % 256 for c in range(3)]
    return np.stack(chans, -1).astype(np.uint8)


def grey_pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 23 + y * 41 + (x ^ y) * 5) % 256).astype(np.uint8)


def mask_pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return np.where(((x * 7 + y * 3) % 11 < 4) | ((x - 20) ** 2 + (y - 12) ** 2 < 40), 255, 0).astype(np.uint8)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype(np.uint8).tobytes()).decode()


cases = []
for (w, h, out) in [(40, 30, 16), (40, 30, 48), (40, 30, 32), (40, 30, 30)]:
    src = rgb_pattern(w, h)
    res = np.asarray(Image.fromarray(src, 'RGB').resize((out, out), Image.BILINEAR))
    cases.append({'kind': 'rgb', 'width': w, 'height': h, 'size': out, 'expected': b64(res)})
for (w, h, out) in [(12, 12, 20), (50, 44, 24)]:
    src = grey_pattern(w, h)
    res = np.asarray(Image.fromarray(src, 'L').resize((out, out), Image.BILINEAR))
    cases.append({'kind': 'grey', 'width': w, 'height': h, 'size': out, 'expected': b64(res)})
for (w, h, out) in [(40, 30, 16), (40, 30, 64), (40, 30, 30)]:
    src = mask_pattern(w, h)
    # nearest on pixel centres, src = floor((i + 0.5) * in / out) in float64 (torch 'nearest-exact').
    # Pillow's NEAREST is the same rule but accumulates the step in floating point, so at exact integer
    # boundaries (e.g. 40 -> 30) it sometimes picks the pixel before; we record whether it agrees.
    ys = np.floor((np.arange(out) + 0.5) * h / out).astype(int)
    xs = np.floor((np.arange(out) + 0.5) * w / out).astype(int)
    res = src[ys][:, xs]
    pil = np.asarray(Image.fromarray(src, 'L').resize((out, out), Image.NEAREST))
    cases.append({'kind': 'mask', 'width': w, 'height': h, 'size': out, 'expected': b64(res // 255),
                  'pillowAgrees': bool((pil == res).all())})

with open('resize_golden.json', 'w') as f:
    json.dump({'pillow': pil_version, 'cases': cases}, f, indent=1)
print('wrote', len(cases), 'cases')
