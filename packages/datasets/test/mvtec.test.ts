// MVTec-layout loader on tiny generated folders: layout rules, labels from masks, mask resizing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadMvtec, hasPixelLabels } from '../src';
import { makeTinyMvtec, tempDir, writeRgbPng } from './helpers';

let root: string;
beforeAll(async () => {
  root = tempDir('mvtec');
  await makeTinyMvtec(root, 'widget');
  await makeTinyMvtec(root, 'gadget');
  fs.mkdirSync(path.join(root, 'not-a-category')); // no train/: ignored
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('loadMvtec', () => {
  it('finds every category (sorted) and lists samples in folder / file-name order', async () => {
    const warnings: string[] = [];
    const ds = await loadMvtec(root, { warn: (m) => warnings.push(m) });
    expect(ds.classes).toEqual(['gadget', 'widget']);
    expect(ds.samples.filter((s) => s.className === 'widget').map((s) => s.id)).toEqual([
      'widget/train/good/000',
      'widget/train/good/001',
      'widget/train/good/002',
      'widget/test/crack/000',
      'widget/test/crack/001',
      'widget/test/good/000',
    ]);
    // crack/001 has an empty mask: with labels from masks it is normal (and we were told)
    const s1 = ds.samples.find((s) => s.id === 'widget/test/crack/001')!;
    expect(s1.label).toBe(0);
    expect(ds.samples.find((s) => s.id === 'widget/test/crack/000')!.label).toBe(1);
    expect(warnings.join()).toContain('2 defect images have empty masks');
    expect(hasPixelLabels(ds)).toBe(true);
  });

  it("categories selects a subset; labelFrom 'folder' labels every defect image anomalous", async () => {
    const ds = await loadMvtec(root, { categories: ['widget'], labelFrom: 'folder' });
    expect(ds.classes).toEqual(['widget']);
    expect(ds.samples).toHaveLength(6);
    expect(ds.samples.filter((s) => s.label === 1).map((s) => s.id)).toEqual(['widget/test/crack/000', 'widget/test/crack/001']);
  });

  it('loadMask: nearest resize of the binarised mask; zeros for normal samples', async () => {
    const ds = await loadMvtec(root, { categories: ['widget'] });
    const s = ds.samples.find((x) => x.id === 'widget/test/crack/000')!;
    // native 24×20 with the rectangle x 4..11, y 4..9; at 12×10 (exact halving) rows 2..4, cols 2..5
    const m = await ds.loadMask(s, 12);
    // square output 12×12 from 24×20: src x = floor((i+0.5)*2), src y = floor((j+0.5)*20/12)
    const expected: number[] = [];
    for (let j = 0; j < 12; j++)
      for (let i = 0; i < 12; i++) {
        const sx = Math.floor((i + 0.5) * 2), sy = Math.floor(((j + 0.5) * 20) / 12);
        expected.push(sx >= 4 && sx < 12 && sy >= 4 && sy < 10 ? 1 : 0);
      }
    expect(Array.from(m)).toEqual(expected);
    expect(m.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const good = ds.samples.find((x) => x.id === 'widget/test/good/000')!;
    expect((await ds.loadMask(good, 12)).every((v) => v === 0)).toBe(true);
  });

  it('loadImage gives HWC RGB float32 in [0, 255] at any size', async () => {
    const ds = await loadMvtec(root, { categories: ['gadget'] });
    for (const size of [8, 24, 40]) {
      const img = await ds.loadImage(ds.samples[0], size);
      expect(img).toBeInstanceOf(Float32Array);
      expect(img.length).toBe(size * size * 3);
      expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...img)).toBeLessThanOrEqual(255);
    }
    // at native width a pixel keeps its exact value when the size matches on both axes
    const sq = tempDir('sq');
    await writeRgbPng(path.join(sq, 'x', 'train', 'good', 'a.png'), 16, 16, 3);
    await writeRgbPng(path.join(sq, 'x', 'test', 'good', 'a.png'), 16, 16, 4);
    const d2 = await loadMvtec(sq);
    const img = await d2.loadImage(d2.samples[0], 16);
    expect(img[(5 * 16 + 7) * 3 + 1]).toBe((7 * 13 + 5 * 29 + 70 + 3 * 41) % 256);
    fs.rmSync(sq, { recursive: true, force: true });
  });
});
