// Synthetic industrial data: determinism, exact masks, MVTec layout readable by the MVTec loader.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  generateSynthetic,
  ensureSynthetic,
  renderSynthetic,
  loadMvtec,
  loadDataset,
  SYNTHETIC_CLASSES,
  SYNTHETIC_CLASS_NAMES,
  decodeMask,
} from '../src';
import { expectUserError, tempDir } from './helpers';

let root: string;
const small = { trainPerClass: 3, testGoodPerClass: 2, testDefectPerClass: 3, size: 96, seed: 11 };

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  walk(dir);
  return out;
}

beforeAll(() => {
  root = tempDir('synthetic');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('generateSynthetic', () => {
  it('same seed -> identical bytes; another seed -> different images', async () => {
    const a = path.join(root, 'a'), b = path.join(root, 'b'), c = path.join(root, 'c');
    await generateSynthetic(a, small);
    await generateSynthetic(b, small);
    await generateSynthetic(c, { ...small, seed: 12 });
    const fa = listFiles(a);
    expect(fa).toEqual(listFiles(b));
    expect(fa).toContain('synthetic.json');
    expect(fa.filter((f) => f.endsWith('.png'))).toHaveLength(4 * (3 + 2 + 3) + 4 * 3);
    for (const f of fa) expect(fs.readFileSync(path.join(b, f)).equals(fs.readFileSync(path.join(a, f)))).toBe(true);
    const differ = fa.filter((f) => f.includes('/train/') && !fs.readFileSync(path.join(c, f)).equals(fs.readFileSync(path.join(a, f))));
    expect(differ).toHaveLength(4 * 3);
  });

  it('maxRotation: objects stay within ±maxRotation of their reference pose; 180 (default) and textures are unchanged', async () => {
    // the screw's principal axis (second moments of its dark pixels), in degrees, image y down
    const axis = (img: Uint8Array, size: number) => {
      let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let i = 0; i < size * size; i++) {
        if ((img[3 * i] + img[3 * i + 1] + img[3 * i + 2]) / 3 > 150) continue;
        const x = i % size, y = Math.floor(i / size);
        n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      const mx = sx / n, my = sy / n;
      return (0.5 * Math.atan2(2 * (sxy / n - mx * my), sxx / n - mx * mx - (syy / n - my * my)) * 180) / Math.PI;
    };
    const fixed = Array.from({ length: 12 }, (_, k) => axis(renderSynthetic('screw', 128, 5, `train/good/${k}`, null, 5).image, 128));
    for (const a of fixed) expect(Math.abs(a + 45)).toBeLessThan(5 + 2.5); // reference: tip to the upper right
    const free = Array.from({ length: 12 }, (_, k) => axis(renderSynthetic('screw', 128, 5, `train/good/${k}`).image, 128));
    expect(free.filter((a) => Math.abs(a + 45) > 20).length).toBeGreaterThan(4);
    // 180 is the default exactly; textures ignore the option; objects change
    for (const c of ['fabric', 'wood'])
      expect(Buffer.from(renderSynthetic(c, 64, 5, 'train/good/0', null, 5).image).equals(Buffer.from(renderSynthetic(c, 64, 5, 'train/good/0').image))).toBe(true);
    expect(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0', null, 180).image).equals(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0').image))).toBe(true);
    expect(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0', null, 5).image).equals(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0').image))).toBe(false);
    // a set made with another maxRotation is another set (regenerated, its own cache folder); a bad value is one line
    const d = path.join(root, 'rot');
    await ensureSynthetic(d, { ...small, classes: ['screw'] });
    expect((await ensureSynthetic(d, { ...small, classes: ['screw'], maxRotation: 5 })).generated).toBe(true);
    expect((await ensureSynthetic(d, { ...small, classes: ['screw'], maxRotation: 5 })).generated).toBe(false);
    await expectUserError(() => ensureSynthetic(d, { ...small, maxRotation: 200 }), 'synthetic: maxRotation must be a number of degrees in [0, 180], got 200');
  });

  it('maxShift: object centres stay within ±maxShift·size of the image centre; null (default) and textures are unchanged', async () => {
    // centroid of the screw's dark pixels (on its pale table), in pixels from the image centre
    const centre = (img: Uint8Array, size: number) => {
      let n = 0, sx = 0, sy = 0;
      for (let i = 0; i < size * size; i++) {
        if ((img[3 * i] + img[3 * i + 1] + img[3 * i + 2]) / 3 > 150) continue;
        n++; sx += i % size; sy += Math.floor(i / size);
      }
      return [sx / n, sy / n];
    };
    const size = 128, keys = Array.from({ length: 16 }, (_, k) => `train/good/${k}`);
    // rotation fixed (0°); an image with another maxShift draws the same numbers (pose, lighting, noise), so it is the
    // centred one (maxShift 0) translated: the centroids differ by the centre's offset
    const at = (shift: number | null) => keys.map((k) => centre(renderSynthetic('screw', size, 5, k, null, 0, shift).image, size));
    const base = at(0);
    const offsets = (shift: number | null) => at(shift).map((p, i) => [p[0] - base[i][0], p[1] - base[i][1]]);
    const largest = (o: number[][]) => Math.max(...o.flat().map(Math.abs));
    expect(largest(offsets(0.01))).toBeLessThanOrEqual(0.01 * size + 0.5);
    expect(largest(offsets(0.01))).toBeGreaterThan(0.005 * size);
    expect(largest(offsets(null))).toBeGreaterThan(0.04 * size); // the class's own ±0.06
    expect(largest(offsets(null))).toBeLessThanOrEqual(0.06 * size + 0.5);
    // null is the default exactly; textures ignore the option; objects change
    expect(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0', null, 180, null).image).equals(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0').image))).toBe(true);
    for (const c of ['fabric', 'wood'])
      expect(Buffer.from(renderSynthetic(c, 64, 5, 'train/good/0', null, 180, 0.01).image).equals(Buffer.from(renderSynthetic(c, 64, 5, 'train/good/0').image))).toBe(true);
    expect(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0', null, 180, 0.01).image).equals(Buffer.from(renderSynthetic('disk', 64, 5, 'train/good/0').image))).toBe(false);
    // another maxShift is another set; a bad value is one line naming it
    const d = path.join(root, 'shift');
    await ensureSynthetic(d, { ...small, classes: ['disk'] });
    expect((await ensureSynthetic(d, { ...small, classes: ['disk'], maxShift: 0.02 })).generated).toBe(true);
    expect((await ensureSynthetic(d, { ...small, classes: ['disk'], maxShift: 0.02 })).generated).toBe(false);
    await expectUserError(() => ensureSynthetic(d, { ...small, maxShift: 0.3 }), 'synthetic: maxShift must be a fraction of the image side in [0, 0.1], got 0.3');
    await expectUserError(() => loadDataset({ type: 'synthetic', root: d, maxShift: -1 }), 'dataset spec: maxShift: ');
  });

  it('an image depends only on (seed, class, split, defect, index), not on the other classes', () => {
    const r1 = renderSynthetic('disk', 64, 3, 'test/scratch/0', 'scratch');
    const r2 = renderSynthetic('disk', 64, 3, 'test/scratch/0', 'scratch');
    expect(Buffer.from(r1.image).equals(Buffer.from(r2.image))).toBe(true);
    const r3 = renderSynthetic('disk', 64, 3, 'test/scratch/1', 'scratch');
    expect(Buffer.from(r1.image).equals(Buffer.from(r3.image))).toBe(false);
  });

  it('the MVTec loader reads it: counts, labels, masks identical to the rendered ones', async () => {
    const a = path.join(root, 'a');
    const ds = await loadMvtec(a);
    expect(ds.classes).toEqual([...SYNTHETIC_CLASS_NAMES].sort());
    for (const c of ds.classes) {
      const s = ds.samples.filter((x) => x.className === c);
      expect(s.filter((x) => x.split === 'train')).toHaveLength(3);
      expect(s.filter((x) => x.split === 'test' && x.label === 0)).toHaveLength(2);
      const bad = s.filter((x) => x.label === 1);
      expect(bad.map((x) => x.defectType).sort()).toEqual([...SYNTHETIC_CLASSES[c].defects].sort());
    }
    const s = ds.samples.find((x) => x.id === 'screw/test/missing_tip/000')!;
    const r = renderSynthetic('screw', 96, 11, 'test/missing_tip/0', 'missing_tip');
    const m = await ds.loadMask(s, 96);
    expect(Array.from(m)).toEqual(Array.from(r.mask!));
    const img = await ds.loadImage(s, 96);
    expect(Array.from(img)).toEqual(Array.from(r.image));
  });

  it('ensureSynthetic reuses a matching set, regenerates on change, never overwrites foreign folders', async () => {
    const d = path.join(root, 'e');
    expect((await ensureSynthetic(d, small)).generated).toBe(true);
    expect((await ensureSynthetic(d, small)).generated).toBe(false);
    const again = await ensureSynthetic(d, { ...small, classes: ['wood'] });
    expect(again.generated).toBe(true);
    expect(fs.readdirSync(d).sort()).toEqual(['synthetic.json', 'wood']);
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'precious');
    await expectUserError(generateSynthetic(foreign, small), 'refusing', foreign);
    expect(fs.readFileSync(path.join(foreign, 'thesis.tex'), 'utf8')).toBe('precious');
    await expectUserError(generateSynthetic(path.join(root, 'x'), { classes: ['bottle'] }), "unknown class 'bottle'");
    const ds = await loadDataset({ type: 'synthetic', root: 'e', classes: ['wood'], ...small }, { baseDir: root });
    expect(ds.name).toBe('synthetic');
    expect(ds.classes).toEqual(['wood']);
  });
});

describe('synthetic defects', () => {
  const size = 128;
  for (const cls of SYNTHETIC_CLASS_NAMES) {
    for (const defect of SYNTHETIC_CLASSES[cls].defects) {
      it(`${cls}/${defect}: mask = exactly the changed pixels; visible; plausible size`, () => {
        for (let k = 0; k < 3; k++) {
          const r = renderSynthetic(cls, size, 7, `test/${defect}/${k}`, defect);
          const mask = r.mask!;
          let area = 0, outsideChanged = 0, sumIn = 0, strongIn = 0;
          for (let i = 0; i < size * size; i++) {
            let d = 0;
            for (let c = 0; c < 3; c++) d += Math.abs(r.image[3 * i + c] - r.clean[3 * i + c]);
            d /= 3;
            if (mask[i]) {
              area++;
              sumIn += d;
              if (d > 15) strongIn++;
            } else if (d !== 0) outsideChanged++;
          }
          expect(outsideChanged).toBe(0);
          expect(area / (size * size)).toBeGreaterThan(0.001);
          expect(area / (size * size)).toBeLessThan(0.12);
          expect(sumIn / area).toBeGreaterThan(20); // mean change inside the mask, grey levels
          expect(strongIn / area).toBeGreaterThan(0.6);
        }
      });
    }
  }

  it('normal images vary (pose, phase, light, noise) yet stay alike within a class', () => {
    for (const cls of SYNTHETIC_CLASS_NAMES) {
      const a = renderSynthetic(cls, 96, 1, 'train/good/0').image;
      const b = renderSynthetic(cls, 96, 1, 'train/good/1').image;
      let diff = 0;
      const mean = [0, 0];
      for (let i = 0; i < a.length; i++) {
        diff += Math.abs(a[i] - b[i]);
        mean[0] += a[i];
        mean[1] += b[i];
      }
      expect(diff / a.length).toBeGreaterThan(5);
      expect(Math.abs(mean[0] - mean[1]) / a.length).toBeLessThan(25);
      expect(renderSynthetic(cls, 96, 1, 'train/good/0').mask).toBeNull();
    }
  });

  it('is fast: 4 classes x 40 images at 224 px (time reported)', async () => {
    const t0 = performance.now();
    await generateSynthetic(path.join(root, 'speed'), { trainPerClass: 24, testGoodPerClass: 6, testDefectPerClass: 10, size: 224 });
    const s = (performance.now() - t0) / 1000;
    console.log(`synthetic: 160 images at 224 px in ${s.toFixed(1)} s`);
    expect(s).toBeLessThan(40); // generous: the test machine is shared
    const m = await decodeMask(path.join(root, 'speed', 'fabric', 'ground_truth', 'hole', '000_mask.png'));
    expect(m.positives).toBeGreaterThan(0);
  });
});
