"""Reference values on the real shared data (../shared/data), computed with Pillow + numpy, independent of
the TypeScript loaders. Used by real-data.test.ts (skipped where ../shared is absent).

- image at 224: Pillow BILINEAR of the RGB image (grey replicated); stored: channel means and the uint8
  pixels of the grid rows/cols 3, 10, 17, ... (every 7th, 32x32x3, base64) to keep this file small
- mask at 224: binarise (> 127) at native size, nearest on pixel centres src = floor((i+0.5)*in/224);
  stored bit-packed (numpy packbits, row-major), base64
- Magnetic Tile split: sorted MT_Free/Imgs/*.jpg, index i is test when i % 5 == 4

Run: python3 make_real_golden.py   (writes real_golden.json; Pillow 12.3.0 was used)
"""
import base64, glob, json, os
import numpy as np
from PIL import Image, __version__ as pil_version

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..', 'shared', 'data'))
S = 224


def img224(path):
    im = Image.open(path).convert('RGB')
    return np.asarray(im.resize((S, S), Image.BILINEAR))


def mask224(path):
    m = np.asarray(Image.open(path).convert('L')) > 127
    h, w = m.shape
    ys = np.floor((np.arange(S) + 0.5) * h / S).astype(int)
    xs = np.floor((np.arange(S) + 0.5) * w / S).astype(int)
    return m[ys][:, xs], int(m.sum())


def img_entry(a):
    return {'means': [float(a[..., c].mean()) for c in range(3)], 'grid': b64(a[3::7, 3::7])}


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype(np.uint8).tobytes()).decode()


out = {'pillow': pil_version, 'size': S, 'images': [], 'masks': []}
bottle = os.path.join(SHARED, 'mvtec-ad', 'bottle')
for rel in ['test/broken_large/000.png', 'train/good/000.png']:
    out['images'].append({'dataset': 'mvtec', 'rel': rel, **img_entry(img224(os.path.join(bottle, rel)))})
for defect, idx in [('broken_large', '000'), ('broken_small', '005'), ('contamination', '020')]:
    m, native = mask224(os.path.join(bottle, 'ground_truth', defect, idx + '_mask.png'))
    out['masks'].append({'dataset': 'mvtec', 'id': f'bottle/test/{defect}/{idx}', 'positives224': int(m.sum()),
                         'positivesNative': native, 'bits': b64(np.packbits(m.reshape(-1)))})

mt = os.path.join(SHARED, 'magnetic-tile')
free = sorted(os.path.basename(p) for p in glob.glob(os.path.join(mt, 'MT_Free', 'Imgs', '*.jpg')))
out['magneticTile'] = {
    'free': len(free),
    'trainFirst': [f[:-4] for i, f in enumerate(free) if i % 5 != 4][:3],
    'testNormal': [f[:-4] for i, f in enumerate(free) if i % 5 == 4][:3],
    'testNormalLast': [f[:-4] for i, f in enumerate(free) if i % 5 == 4][-1],
    'defects': {d[3:]: len(glob.glob(os.path.join(mt, d, 'Imgs', '*.jpg'))) for d in sorted(os.listdir(mt)) if d.startswith('MT_') and d != 'MT_Free'},
}
empty = []
for p in sorted(glob.glob(os.path.join(mt, 'MT_*', 'Imgs', '*.png'))):
    if 'MT_Free' in p:
        continue
    if not (np.asarray(Image.open(p).convert('L')) > 127).any():
        empty.append(p.split(os.sep)[-3][3:] + '/' + os.path.basename(p)[:-4])
out['magneticTile']['emptyMasksNative'] = empty
blow = sorted(glob.glob(os.path.join(mt, 'MT_Blowhole', 'Imgs', '*.jpg')))[0]
name = os.path.basename(blow)[:-4]
out['images'].append({'dataset': 'magnetic-tile', 'rel': f'MT_Blowhole/Imgs/{name}.jpg', **img_entry(img224(blow))})
m, native = mask224(blow[:-4] + '.png')
out['masks'].append({'dataset': 'magnetic-tile', 'id': f'magnetic_tile/test/Blowhole/{name}', 'positives224': int(m.sum()),
                     'positivesNative': native, 'bits': b64(np.packbits(m.reshape(-1)))})

with open(os.path.join(os.path.dirname(__file__) or '.', 'real_golden.json'), 'w') as f:
    json.dump(out, f, indent=1)
print(json.dumps({k: v for k, v in out['magneticTile'].items()}, indent=1))
print([(m['id'], m['positives224'], m['positivesNative']) for m in out['masks']])
