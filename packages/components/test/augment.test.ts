import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '@unified-ad/core';
import {
  type ImageHWC,
  DRAEM_OPS,
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyDraemOps,
  cloneImage,
  colorJitter,
  confettiNoise,
  cutPaste3Way,
  cutPasteNormal,
  cutPasteScar,
  draemAugment,
  draemRandomOps,
  fcddConfetti,
  hsvToRgb,
  perlinMask,
  perlinNoise,
  proceduralTexture,
  resizeImage,
  rgbToHsv,
  rotateExpand,
  rotateImage,
  smoothNoise,
} from '../src';

/** A colourful test image: gradients, a checkerboard and seeded noise, values in [0, 255]. */
function testImage(h: number, w: number, seed = 1, c = 3): ImageHWC {
  const r = new Rng(seed);
  const data = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const check = ((y >> 3) + (x >> 3)) % 2 ? 40 : 0;
      for (let k = 0; k < c; k++) {
        const base = k === 0 ? (200 * x) / w : k === 1 ? (200 * y) / h : 100 + 80 * Math.sin((x + y) / 9);
        data[(y * w + x) * c + k] = Math.min(255, Math.max(0, base + check + 15 * r.next()));
      }
    }
  return { data, height: h, width: w, channels: c };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: Float32Array, b: Float32Array) => bytes(a).equals(bytes(b));

function expectValid(img: ImageHWC): void {
  let bad = 0;
  for (const v of img.data) if (!(v >= 0 && v <= 255)) bad++; // also catches NaN
  expect(bad).toBe(0);
}

const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** pixels outside the mask are bit-identical to the input; returns how many pixels inside the mask changed */
function checkOutsideUnchanged(src: ImageHWC, out: ImageHWC, mask: Float32Array): number {
  const c = src.channels;
  let outsideChanged = 0;
  let insideChanged = 0;
  let nonBinary = 0;
  for (let p = 0; p < mask.length; p++) {
    let diff = false;
    for (let k = 0; k < c; k++) if (src.data[p * c + k] !== out.data[p * c + k]) diff = true;
    if (mask[p] === 0 && diff) outsideChanged++;
    if (mask[p] === 1 && diff) insideChanged++;
    if (mask[p] !== 0 && mask[p] !== 1) nonBinary++;
  }
  expect(nonBinary).toBe(0);
  expect(outsideChanged).toBe(0);
  return insideChanged;
}

/** a generator that replays given uniforms (for goldens that fix the random numbers) */
function replay(values: number[]): Rng {
  let i = 0;
  return {
    next: () => {
      if (i >= values.length) throw new Error('replay: out of values');
      return values[i++];
    },
  } as unknown as Rng;
}

describe('Perlin noise and masks (DRAEM)', () => {
  const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'perlin_golden.json'), 'utf8')) as {
    cases: { height: number; width: number; res: [number, number]; uniforms: number[]; noise: number[] }[];
  };

  for (const c of golden.cases) {
    it(`matches DRAEM's rand_perlin_2d_np layout (numpy golden) at ${c.height}×${c.width}, res ${c.res.join('×')}`, () => {
      const n = perlinNoise(c.height, c.width, c.res[0], c.res[1], replay(c.uniforms));
      expect(n.length).toBe(c.noise.length);
      let maxErr = 0;
      for (let i = 0; i < n.length; i++) maxErr = Math.max(maxErr, Math.abs(n[i] - c.noise[i]));
      expect(maxErr).toBeLessThan(1e-6);
    });
  }

  it('noise is bounded by 1 (√2 × the 2-D Perlin bound) and not degenerate', () => {
    const rng = new Rng(5);
    let mx = 0;
    for (let t = 0; t < 30; t++) {
      const n = perlinNoise(64, 64, 1 << rng.int(6), 1 << rng.int(6), rng);
      for (const v of n) mx = Math.max(mx, Math.abs(v));
    }
    expect(mx).toBeLessThanOrEqual(1 + 1e-6);
    expect(mx).toBeGreaterThan(0.6);
  });

  it('mask statistics over many draws: scales 2^{0..5} per axis, rotation ±90°, mask = noise > 0.5, area fraction range', () => {
    const rng = new Rng(11);
    const areas: number[] = [];
    const sy = new Set<number>();
    const sx = new Set<number>();
    let minA = Infinity;
    let maxA = -Infinity;
    for (let t = 0; t < 300; t++) {
      const m = perlinMask(128, 128, rng);
      sy.add(m.scale[0]);
      sx.add(m.scale[1]);
      minA = Math.min(minA, m.angle);
      maxA = Math.max(maxA, m.angle);
      let ones = 0;
      let wrong = 0;
      for (let i = 0; i < m.mask.length; i++) {
        if (m.mask[i] !== (m.noise[i] > 0.5 ? 1 : 0)) wrong++;
        ones += m.mask[i];
      }
      expect(wrong).toBe(0);
      expect(m.area).toBe(ones / m.mask.length);
      areas.push(m.area);
    }
    expect([...sy].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32]);
    expect([...sx].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(minA).toBeGreaterThanOrEqual(-90);
    expect(maxA).toBeLessThanOrEqual(90);
    expect(minA).toBeLessThan(-80);
    expect(maxA).toBeGreaterThan(80);
    // noise > 0.5 covers a few per cent of the image on average, never most of it
    const m = mean(areas);
    expect(m).toBeGreaterThan(0.025);
    expect(m).toBeLessThan(0.1);
    expect(Math.max(...areas)).toBeLessThan(0.5);
    expect(areas.filter((a) => a > 0).length).toBeGreaterThan(250);
  });

  it('threshold and rotation are parameters: threshold 0 without rotation covers about half', () => {
    const rng = new Rng(2);
    const areas = Array.from({ length: 60 }, () => perlinMask(64, 64, rng, { threshold: 0, rotation: 0, minScaleExp: 2, maxScaleExp: 4 }).area);
    expect(Math.abs(mean(areas) - 0.5)).toBeLessThan(0.06);
    // threshold above the bound: empty
    expect(perlinMask(64, 64, rng, { threshold: 1.01 }).area).toBe(0);
    expect(() => perlinMask(64, 64, rng, { minScaleExp: 3, maxScaleExp: 3 })).toThrow(/minScaleExp \/ maxScaleExp/);
    expect(() => perlinMask(64, 64, rng, { rotation: -1 })).toThrow(/^rotation must be a number/);
  });
});

describe('DRAEM anomalies', () => {
  const img = testImage(64, 80, 3);

  it('clean-sample rate ≈ 0.5, β ∈ [0, 0.8), 3 distinct ops, masks match the blend, values stay in [0, 255]', () => {
    const rng = new Rng(21);
    let clean = 0;
    let empty = 0;
    const betas: number[] = [];
    const opCount = new Map<string, number>();
    const N = 400;
    for (let t = 0; t < N; t++) {
      const r = draemAugment(img, rng);
      expectValid(r.image);
      if (r.beta === null) {
        clean++;
        expect(r.anomalous).toBe(false);
        expect(sameBytes(r.image.data, img.data)).toBe(true);
        expect(sum(r.mask)).toBe(0);
        continue;
      }
      betas.push(r.beta);
      expect(r.ops.length).toBe(3);
      expect(new Set(r.ops).size).toBe(3);
      for (const op of r.ops) opCount.set(op, (opCount.get(op) ?? 0) + 1);
      const inside = checkOutsideUnchanged(img, r.image, r.mask);
      if (sum(r.mask) === 0) {
        empty++;
        expect(r.anomalous).toBe(false);
        continue;
      }
      expect(r.anomalous).toBe(true);
      // inside the mask: (1 − β)·augmented source + β·image
      const src = r.source!;
      let maxErr = 0;
      for (let p = 0; p < r.mask.length; p++) {
        if (!r.mask[p]) continue;
        for (let k = 0; k < 3; k++) {
          const i = p * 3 + k;
          const want = Math.min(255, Math.max(0, (1 - r.beta) * src.data[i] + r.beta * img.data[i]));
          maxErr = Math.max(maxErr, Math.abs(r.image.data[i] - want));
        }
      }
      expect(maxErr).toBeLessThan(1e-3);
      expect(inside).toBeGreaterThan(0.5 * sum(r.mask));
    }
    expect(Math.abs(clean / N - 0.5)).toBeLessThan(0.08); // ±3.2σ of Binomial(400, 0.5)
    expect(empty).toBeLessThan(0.15 * (N - clean));
    expect(Math.min(...betas)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...betas)).toBeLessThan(0.8);
    expect(Math.min(...betas)).toBeLessThan(0.1);
    expect(Math.max(...betas)).toBeGreaterThan(0.7);
    expect([...opCount.keys()].sort()).toEqual([...DRAEM_OPS].sort());
  });

  it('the anomaly source is a parameter (another image); numOps 0 blends it unchanged', () => {
    const other = testImage(64, 80, 9);
    const rng = new Rng(4);
    let n = 0;
    for (let t = 0; t < 40 && n < 5; t++) {
      const r = draemAugment(img, rng, { source: other, numOps: 0, cleanProbability: 0 });
      expect(r.ops).toEqual([]);
      if (!r.anomalous) continue;
      n++;
      let maxErr = 0;
      for (let p = 0; p < r.mask.length; p++) {
        if (!r.mask[p]) continue;
        for (let k = 0; k < 3; k++) {
          const i = p * 3 + k;
          maxErr = Math.max(maxErr, Math.abs(r.image.data[i] - ((1 - r.beta!) * other.data[i] + r.beta! * img.data[i])));
        }
      }
      expect(maxErr).toBeLessThan(1e-3);
    }
    expect(n).toBe(5);
    expect(() => draemAugment(img, rng, { source: testImage(32, 32) })).toThrow(/^source must be 64×80×3 like the image, got 32×32×3$/);
    expect(() => draemAugment(img, rng, { cleanProbability: 2 })).toThrow(/^cleanProbability must be a number in \[0, 1\]/);
    expect(() => draemAugment(img, rng, { betaMax: 1.5 })).toThrow(/^betaMax must be/);
    expect(() => draemAugment(img, rng, { numOps: 11, cleanProbability: 0 })).toThrow(/^count must be an integer in \[0, 10\]/);
  });

  it('deterministic: same seed → identical bytes, different seed → different', () => {
    const a = draemAugment(img, new Rng(7), { cleanProbability: 0 });
    const b = draemAugment(img, new Rng(7), { cleanProbability: 0 });
    const c = draemAugment(img, new Rng(8), { cleanProbability: 0 });
    expect(sameBytes(a.image.data, b.image.data)).toBe(true);
    expect(sameBytes(a.mask, b.mask)).toBe(true);
    expect(sameBytes(a.image.data, c.image.data)).toBe(false);
  });

  it('each of the 10 ops: valid values, deterministic, and its defining property', () => {
    for (const op of DRAEM_OPS) {
      const a = applyDraemOps(img, [op], new Rng(3));
      const b = applyDraemOps(img, [op], new Rng(3));
      expectValid(a);
      expect(sameBytes(a.data, b.data)).toBe(true);
      expect(a.height).toBe(img.height);
      expect(a.width).toBe(img.width);
    }
    const rng = new Rng(12);
    // invert is an involution (up to float rounding)
    const inv2 = applyDraemOps(img, ['invert', 'invert'], rng);
    expect(Math.max(...inv2.data.map((v, i) => Math.abs(v - img.data[i])))).toBeLessThan(1e-4);
    // posterize: every value is a multiple of 2^(8−b) for one b
    for (let t = 0; t < 5; t++) {
      const p = applyDraemOps(img, ['posterize'], rng);
      let g = 256;
      for (const v of p.data) while (g > 1 && v % g !== 0) g /= 2;
      const distinct = new Set(p.data).size;
      expect(distinct).toBeLessThanOrEqual(256 / g);
    }
    // autocontrast: every channel spans 0..255 afterwards
    const low = { ...img, data: img.data.map((v) => 60 + v / 5) };
    for (let t = 0; t < 5; t++) {
      const a = applyDraemOps(low, ['autocontrast'], rng);
      for (let k = 0; k < 3; k++) {
        const ch = a.data.filter((_, i) => i % 3 === k);
        expect(Math.min(...ch)).toBe(0);
        expect(Math.max(...ch)).toBe(255);
      }
    }
    // equalize: a ramp stays a monotone ramp and uses the full range
    const ramp: ImageHWC = { data: Float32Array.from({ length: 64 * 64 }, (_, i) => 50 + Math.floor(i / 64)), height: 64, width: 64, channels: 1 };
    const e = applyDraemOps(ramp, ['equalize'], rng);
    let drops = 0;
    for (let i = 1; i < e.data.length; i++) if (e.data[i] < e.data[i - 1]) drops++;
    expect(drops).toBe(0);
    expect(e.data[0]).toBe(0);
    expect(e.data[e.data.length - 1]).toBeGreaterThan(240);
    // gamma: 0 and 255 are fixed points, order is kept per channel
    const g = applyDraemOps({ data: Float32Array.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]), height: 1, width: 4, channels: 3 }, ['gammaContrast'], rng);
    expect(Array.from(g.data.slice(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(g.data.slice(9))).toEqual([255, 255, 255]);
    for (let k = 0; k < 3; k++) expect(g.data[3 + k]).toBeLessThan(g.data[6 + k]);
    // sharpness keeps the border and constant images
    const s = applyDraemOps(img, ['enhanceSharpness'], rng);
    expect(sameBytes(s.data.subarray(0, img.width * 3), img.data.subarray(0, img.width * 3))).toBe(true);
    const flat = { data: new Float32Array(10 * 10 * 3).fill(77), height: 10, width: 10, channels: 3 };
    expect(Math.max(...applyDraemOps(flat, ['enhanceSharpness'], rng).data.map((v) => Math.abs(v - 77)))).toBeLessThan(1e-4);
    // solarize either does nothing or inverts every value above a threshold in [32, 128)
    for (let t = 0; t < 6; t++) {
      const z = applyDraemOps(ramp, ['solarize'], rng);
      const changed = Array.from(z.data).map((v, i) => v !== ramp.data[i]);
      if (changed.some((x) => x)) {
        const first = ramp.data[changed.indexOf(true)];
        let wrong = 0;
        for (let i = 0; i < ramp.data.length; i++) if (z.data[i] !== (ramp.data[i] >= first ? 255 - ramp.data[i] : ramp.data[i])) wrong++;
        expect(wrong).toBe(0);
        expect(first).toBeLessThan(128);
      }
    }
    // brightness op moves all channels of a pixel together (YCrCb: ΔR = ΔG = ΔB) or scales them (HSV V)
    const br = applyDraemOps(img, ['multiplyAndAddToBrightness'], new Rng(1));
    expect(sameBytes(br.data, img.data)).toBe(false);
    expect(() => applyDraemOps(img, ['blur' as never], rng)).toThrow(/^DRAEM op must be one of gammaContrast/);
    const r = draemRandomOps(img, new Rng(1));
    expect(r.ops.length).toBe(3);
  });

  it('procedural texture: valid, varied, deterministic', () => {
    const t1 = proceduralTexture(64, 64, 3, new Rng(1));
    const t2 = proceduralTexture(64, 64, 3, new Rng(1));
    const t3 = proceduralTexture(64, 64, 3, new Rng(2));
    expectValid(t1);
    expect(sameBytes(t1.data, t2.data)).toBe(true);
    expect(sameBytes(t1.data, t3.data)).toBe(false);
    const m = sum(t1.data) / t1.data.length;
    const sd = Math.sqrt(sum(t1.data.map((v) => (v - m) ** 2)) / t1.data.length);
    expect(sd).toBeGreaterThan(5);
  });
});

describe('CutPaste', () => {
  const img = testImage(96, 128, 5); // not square: rows and columns must not be swapped

  it('CutPasteNormal: area 2–15 %, aspect log-uniform in [0.3, 1/0.3], pasted rectangle = mask, rest untouched', () => {
    const rng = new Rng(31);
    const H = img.height;
    const W = img.width;
    const areas: number[] = [];
    const logAspects: number[] = [];
    for (let t = 0; t < 500; t++) {
      const r = cutPasteNormal(img, rng, { colorJitter: t % 2 ? null : undefined });
      expectValid(r.image);
      const { patchHeight: ph, patchWidth: pw } = r;
      const frac = (ph * pw) / (H * W);
      // rounding both sides by ≤ 0.5 px
      expect(ph * pw).toBeGreaterThanOrEqual(0.02 * H * W - 0.5 * (ph + pw) - 0.25);
      expect(ph * pw).toBeLessThanOrEqual(0.15 * H * W + 0.5 * (ph + pw) + 0.25);
      expect(pw / ph).toBeGreaterThanOrEqual((0.3 * ph - 0.5) / (ph + 0.5) - 1e-9);
      expect(pw / ph).toBeLessThanOrEqual((ph / 0.3 + 0.5) / (ph - 0.5));
      areas.push(frac);
      logAspects.push(Math.log(pw / ph));
      expect(r.to.top + ph).toBeLessThanOrEqual(H);
      expect(r.to.left + pw).toBeLessThanOrEqual(W);
      expect(sum(r.mask)).toBe(ph * pw);
      let inBox = 0;
      let mismatch = 0;
      for (let y = 0; y < ph; y++)
        for (let x = 0; x < pw; x++) {
          inBox += r.mask[(r.to.top + y) * W + r.to.left + x];
          // no jitter: the pasted pixels are exactly the cut ones
          if (t % 2)
            for (let k = 0; k < 3; k++) if (r.image.data[((r.to.top + y) * W + r.to.left + x) * 3 + k] !== img.data[((r.from.top + y) * W + r.from.left + x) * 3 + k]) mismatch++;
        }
      expect(inBox).toBe(ph * pw);
      expect(mismatch).toBe(0);
      checkOutsideUnchanged(img, r.image, r.mask);
    }
    expect(Math.min(...areas)).toBeLessThan(0.03);
    expect(Math.max(...areas)).toBeGreaterThan(0.14);
    expect(Math.abs(mean(areas) - 0.085)).toBeLessThan(0.01);
    expect(Math.abs(mean(logAspects))).toBeLessThan(0.12); // log-uniform, symmetric about 0
    expect(Math.min(...logAspects)).toBeLessThan(Math.log(0.4));
    expect(Math.max(...logAspects)).toBeGreaterThan(Math.log(2.5));
  });

  it('CutPasteNormal with jitter changes the patch colours (ColorJitter 0.1)', () => {
    const rng = new Rng(2);
    let changed = 0;
    for (let t = 0; t < 20; t++) {
      const r = cutPasteNormal(img, rng);
      let d = 0;
      for (let y = 0; y < r.patchHeight; y++)
        for (let x = 0; x < r.patchWidth; x++)
          for (let k = 0; k < 3; k++)
            d += Math.abs(r.image.data[((r.to.top + y) * img.width + r.to.left + x) * 3 + k] - img.data[((r.from.top + y) * img.width + r.from.left + x) * 3 + k]);
      if (d / (r.patchHeight * r.patchWidth * 3) > 0.5) changed++;
    }
    expect(changed).toBeGreaterThan(15);
  });

  it('CutPasteScar: width 2–16, height 10–25, rotation ±45°, mask = pasted pixels taken from the cut patch', () => {
    const rng = new Rng(41);
    const ws = new Set<number>();
    const hs = new Set<number>();
    const angles: number[] = [];
    for (let t = 0; t < 400; t++) {
      const r = cutPasteScar(img, rng, { colorJitter: null });
      expectValid(r.image);
      const { patchHeight: ph, patchWidth: pw } = r;
      expect(Number.isInteger(pw) && pw >= 2 && pw <= 16).toBe(true);
      expect(Number.isInteger(ph) && ph >= 10 && ph <= 25).toBe(true);
      ws.add(pw);
      hs.add(ph);
      angles.push(r.angle);
      expect(Math.abs(r.angle)).toBeLessThanOrEqual(45);
      // nearest-neighbour rotation keeps the area up to the boundary pixels
      const area = sum(r.mask);
      expect(Math.abs(area - pw * ph)).toBeLessThanOrEqual(pw + ph + 4);
      checkOutsideUnchanged(img, r.image, r.mask);
      // every pasted pixel is a pixel of the cut patch
      const patchPixels = new Set<string>();
      for (let y = 0; y < ph; y++)
        for (let x = 0; x < pw; x++) {
          const o = ((r.from.top + y) * img.width + r.from.left + x) * 3;
          patchPixels.add(`${img.data[o]},${img.data[o + 1]},${img.data[o + 2]}`);
        }
      let foreign = 0;
      for (let p = 0; p < r.mask.length; p++) {
        if (r.mask[p] && !patchPixels.has(`${r.image.data[p * 3]},${r.image.data[p * 3 + 1]},${r.image.data[p * 3 + 2]}`)) foreign++;
      }
      expect(foreign).toBe(0);
    }
    expect(Math.min(...ws)).toBe(2);
    expect(Math.max(...ws)).toBe(16);
    expect(Math.min(...hs)).toBe(10);
    expect(Math.max(...hs)).toBe(25);
    expect(Math.min(...angles)).toBeLessThan(-40);
    expect(Math.max(...angles)).toBeGreaterThan(40);
  });

  it('3-way: one normal and one scar of the same image; deterministic; bad parameters name themselves', () => {
    const a = cutPaste3Way(img, new Rng(1));
    const b = cutPaste3Way(img, new Rng(1));
    const c = cutPaste3Way(img, new Rng(2));
    expect(a.normal.angle).toBe(0);
    expect(sameBytes(a.normal.image.data, b.normal.image.data) && sameBytes(a.scar.image.data, b.scar.image.data)).toBe(true);
    expect(sameBytes(a.normal.image.data, c.normal.image.data)).toBe(false);
    expect(sameBytes(a.scar.image.data, c.scar.image.data)).toBe(false);
    expect(() => cutPasteNormal(img, new Rng(1), { areaRatio: [0.2, 0.1] })).toThrow(/^areaRatio must be \[min, max\]/);
    expect(() => cutPasteNormal(img, new Rng(1), { aspectRatio: 2 })).toThrow(/^aspectRatio must be a number/);
    expect(() => cutPasteNormal(img, new Rng(1), { colorJitter: 0.7 })).toThrow(/^colorJitter must be a number in \[0, 0.5\]/);
    expect(() => cutPasteScar(testImage(20, 20), new Rng(1))).toThrow(/^width \/ height: a scar up to 16×25 does not fit a 20×20 image/);
    expect(() => cutPasteScar(img, new Rng(1), { rotation: [10, -10] })).toThrow(/^rotation must be \[min, max\]/);
  });
});

describe('FCDD confetti', () => {
  it('confettiNoise: blob count ≈ p·H·W (≥ 1), values 0 or the blob colour, rotated squares keep their area', () => {
    const rng = new Rng(51);
    const counts: number[] = [];
    for (let t = 0; t < 60; t++) {
      const r = confettiNoise(128, 128, 3, rng, { p: 0.001, size: [3, 7], colorRange: [-256, 0], rotation: 45 });
      counts.push(r.blobs);
      expect(r.noise.filter((v) => !(v === 0 || (Number.isInteger(v) && v >= -256 && v < 0))).length).toBe(0);
    }
    expect(Math.abs(mean(counts) / (0.001 * 128 * 128) - 1)).toBeLessThan(0.1);
    // ensureBlob: even a tiny p gives one blob
    for (let t = 0; t < 5; t++) expect(confettiNoise(32, 32, 1, rng, { p: 1e-6 }).blobs).toBeGreaterThanOrEqual(1);
    // one blob in the middle: an s×s square has ≈ s² pixels at any angle
    for (const s of [8, 21, 54]) {
      for (let t = 0; t < 5; t++) {
        let r;
        do r = confettiNoise(160, 160, 1, rng, { p: 1 / (160 * 160), size: [s, s], rotation: 45, fill: 255, ensureBlob: true });
        while (r.blobs !== 1);
        let area = 0;
        let [y0, y1, x0, x1] = [160, -1, 160, -1];
        for (let i = 0; i < r.noise.length; i++) {
          if (r.noise[i] !== 255) continue;
          area++;
          const y = Math.floor(i / 160);
          const x = i % 160;
          [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y), Math.min(x0, x), Math.max(x1, x)];
        }
        if (y0 === 0 || x0 === 0 || y1 === 159 || x1 === 159) continue; // clipped by the border
        expect(Math.abs(area / (s * s) - 1)).toBeLessThan(0.1);
        expect(y1 - y0 + 1).toBeLessThanOrEqual(Math.ceil(s * Math.SQRT2) + 1);
      }
    }
  });

  it('smoothNoise: Gaussian blur (kernel 25, σ 5) then truncation; mass of an impulse is kept, constants stay', () => {
    const n = new Float32Array(64 * 64);
    n[32 * 64 + 32] = 10000;
    const s = smoothNoise(n, 64, 64, 1, 25, 5);
    expect(s.filter((v) => !Number.isInteger(v)).length).toBe(0);
    expect(Math.abs(sum(s) - 10000)).toBeLessThan(25 * 25); // at most 1 lost per pixel of the kernel footprint
    // peak of a normalised 2-D Gaussian with σ = 5 (truncated to 25 taps): 10000 / (2π·25) ≈ 63.7
    expect(Math.abs(s[32 * 64 + 32] - 10000 / (2 * Math.PI * 25))).toBeLessThan(1.5);
    expect(s[32 * 64 + 32 + 20]).toBeLessThan(s[32 * 64 + 32 + 5]);
    const c = new Float32Array(20 * 20 * 3).fill(-100);
    expect(smoothNoise(c, 20, 20, 3).every((v) => v === -100)).toBe(true);
  });

  it('fcddConfetti: clean rate ≈ 0.5, mask = changed pixels, values in [0, 255], inverted on a black image', () => {
    const img = testImage(96, 96, 8);
    const rng = new Rng(61);
    let clean = 0;
    for (let t = 0; t < 200; t++) {
      const r = fcddConfetti(img, rng, { pColored: 0.0002, pWhite: 0.0001 });
      expectValid(r.image);
      if (!r.noise) {
        clean++;
        expect(sameBytes(r.image.data, img.data)).toBe(true);
        continue;
      }
      expect(r.blobs).toBeGreaterThanOrEqual(2);
      const inside = checkOutsideUnchanged(img, r.image, r.mask);
      expect(inside).toBe(sum(r.mask)); // every masked pixel changed
      expect(r.anomalous).toBe(inside > 0);
    }
    expect(Math.abs(clean / 200 - 0.5)).toBeLessThan(0.11);
    // on black, the (negative) confetti would change nothing: FCDD negates it
    const black: ImageHWC = { data: new Float32Array(64 * 64 * 3), height: 64, width: 64, channels: 3 };
    const b = fcddConfetti(black, new Rng(3), { cleanProbability: 0 });
    expect(b.inverted).toBe(true);
    expect(sum(b.image.data)).toBeGreaterThan(0);
    const g = fcddConfetti({ ...black, data: new Float32Array(64 * 64 * 3).fill(128) }, new Rng(3), { cleanProbability: 0 });
    expect(g.inverted).toBe(false);
    expect(sum(g.image.data)).toBeLessThan(128 * 64 * 64 * 3); // darkened
    const d1 = fcddConfetti(img, new Rng(9), { cleanProbability: 0 });
    const d2 = fcddConfetti(img, new Rng(9), { cleanProbability: 0 });
    const d3 = fcddConfetti(img, new Rng(10), { cleanProbability: 0 });
    expect(sameBytes(d1.image.data, d2.image.data)).toBe(true);
    expect(sameBytes(d1.image.data, d3.image.data)).toBe(false);
    expect(() => fcddConfetti(img, rng, { invertThreshold: -1 })).toThrow(/^invertThreshold must be/);
    expect(() => confettiNoise(8, 8, 3, rng, { p: 2 })).toThrow(/^p must be a number in \[0, 1\]/);
    expect(() => confettiNoise(8, 8, 3, rng, { p: 0.1, size: [5, 3] })).toThrow(/^size must be integers/);
  });
});

describe('colour jitter (torchvision ColorJitter semantics)', () => {
  const px = (r: number, g: number, b: number): ImageHWC => ({ data: Float32Array.from([r, g, b]), height: 1, width: 1, channels: 3 });

  it('the four adjustments', () => {
    expect(Array.from(adjustBrightness(px(100, 200, 50), 1.5).data)).toEqual([150, 255, 75]);
    const c = adjustContrast(px(100, 200, 50), 0).data; // all to the mean grey
    const grey = 0.2989 * 100 + 0.587 * 200 + 0.114 * 50;
    for (const v of c) expect(v).toBeCloseTo(grey, 4);
    const s = adjustSaturation(px(100, 200, 50), 0).data;
    for (const v of s) expect(v).toBeCloseTo(grey, 4);
    const h = adjustHue(px(255, 0, 0), 1 / 3).data; // red → green
    expect(h[0]).toBeCloseTo(0, 4);
    expect(h[1]).toBeCloseTo(255, 4);
    expect(h[2]).toBeCloseTo(0, 4);
    const h2 = adjustHue(px(255, 0, 0), -1 / 3).data; // red → blue
    expect(h2[2]).toBeCloseTo(255, 4);
    // rgb → hsv → rgb round trip
    const hsv = new Float64Array(3);
    const rgb = new Float64Array(3);
    const r = new Rng(1);
    for (let t = 0; t < 200; t++) {
      const v = [r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255)];
      rgbToHsv(v[0], v[1], v[2], hsv);
      hsvToRgb(hsv[0], hsv[1], hsv[2], rgb);
      for (let k = 0; k < 3; k++) expect(rgb[k]).toBeCloseTo(v[k], 6);
    }
  });

  it('factors within their ranges, random order, deterministic; grey images ignore saturation and hue', () => {
    const img = testImage(16, 16, 2);
    const orders = new Set<string>();
    const rng = new Rng(3);
    for (let t = 0; t < 200; t++) {
      const { image, params } = colorJitter(img, rng, { brightness: 0.4, contrast: 0.3, saturation: 0.2, hue: 0.1 });
      expectValid(image);
      expect(params.brightness!).toBeGreaterThanOrEqual(0.6);
      expect(params.brightness!).toBeLessThanOrEqual(1.4);
      expect(Math.abs(params.contrast! - 1)).toBeLessThanOrEqual(0.3);
      expect(Math.abs(params.saturation! - 1)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(params.hue!)).toBeLessThanOrEqual(0.1);
      expect([...params.order].sort()).toEqual(['brightness', 'contrast', 'hue', 'saturation']);
      orders.add(params.order.join());
    }
    expect(orders.size).toBe(24);
    const a = colorJitter(img, new Rng(5), { brightness: 0.2, hue: 0.2 });
    const b = colorJitter(img, new Rng(5), { brightness: 0.2, hue: 0.2 });
    expect(sameBytes(a.image.data, b.image.data)).toBe(true);
    expect(a.params.order.length).toBe(2);
    const grey = testImage(8, 8, 2, 1);
    const g = colorJitter(grey, new Rng(1), { saturation: 0.5, hue: 0.5 });
    expect(sameBytes(g.image.data, grey.data)).toBe(true);
    expect(() => colorJitter(img, rng, { hue: 0.7 })).toThrow(/^hue must be a number in \[0, 0.5\]/);
    expect(() => colorJitter(img, rng, { brightness: -1 })).toThrow(/^brightness must be a number/);
  });
});

describe('geometry helpers', () => {
  it('rotation by 90° is an exact pixel permutation (screen counter-clockwise), 0° is the identity', () => {
    const img = testImage(12, 12, 4);
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const r = rotateImage(img, 90, { interpolation });
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 12; x++)
          for (let k = 0; k < 3; k++) expect(r.data[(y * 12 + x) * 3 + k]).toBeCloseTo(img.data[(x * 12 + (11 - y)) * 3 + k], 3);
      const z = rotateImage(img, 0, { interpolation });
      for (let i = 0; i < img.data.length; i++) expect(z.data[i]).toBeCloseTo(img.data[i], 4);
    }
    // 45°: the corners come from outside → fill
    const f = rotateImage(img, 45, { fill: 7 });
    expect(Array.from(f.data.slice(0, 3))).toEqual([7, 7, 7]);
  });

  it('rotateExpand: PIL-style expanded canvas and coverage', () => {
    const patch = testImage(20, 6, 1);
    const r0 = rotateExpand(patch, 0);
    expect([r0.image.height, r0.image.width]).toEqual([20, 6]);
    expect(sum(r0.coverage)).toBe(120);
    expect(sameBytes(r0.image.data, patch.data)).toBe(true);
    const r90 = rotateExpand(patch, 90);
    expect([r90.image.height, r90.image.width]).toEqual([6, 20]);
    expect(sum(r90.coverage)).toBe(120);
    const r30 = rotateExpand(patch, 30);
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    expect(r30.image.width).toBe(Math.ceil((6 * c + 20 * s) / 2) * 2);
    expect(Math.abs(sum(r30.coverage) - 120)).toBeLessThan(15);
  });

  it('resizeImage keeps constants and the identity size', () => {
    const img = testImage(10, 14, 1);
    const same = resizeImage(img, 10, 14);
    for (let i = 0; i < img.data.length; i++) expect(same.data[i]).toBeCloseTo(img.data[i], 4);
    const flat = { data: new Float32Array(5 * 5 * 3).fill(42), height: 5, width: 5, channels: 3 };
    for (const v of resizeImage(flat, 13, 9).data) expect(v).toBeCloseTo(42, 4);
    expect(() => resizeImage(img, 0, 3)).toThrow(/^resize: size must be positive integers/);
    expect(() => rotateImage({ ...img, data: new Float32Array(3) }, 10)).toThrow(/^image: 3 values for 10×14×3$/);
    expect(cloneImage(img).data).not.toBe(img.data);
  });
});
