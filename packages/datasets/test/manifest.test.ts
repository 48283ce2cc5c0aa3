// Custom data through a manifest (CSV or JSONL), paths relative to the manifest file.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifest, loadDataset, parseCsv, readManifest, hasPixelLabels } from '../src';
import { expectUserError, makeTinyMvtec, tempDir, writeMaskPng } from './helpers';

let root: string;
beforeAll(async () => {
  root = tempDir('manifest');
  await makeTinyMvtec(path.join(root, 'imgs'), 'widget');
  fs.mkdirSync(path.join(root, 'lists'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const rows = [
  ['../imgs/widget/train/good/000.png', 'widget', 'train', '', '', ''],
  ['../imgs/widget/train/good/001.png', 'widget', 'train', '0', '', ''],
  ['../imgs/widget/test/good/000.png', 'widget', 'test', 'normal', '', ''],
  ['../imgs/widget/test/crack/000.png', 'widget', 'test', '1', '../imgs/widget/ground_truth/crack/000_mask.png', 'crack'],
  ['../imgs/widget/train/good/002.png', 'gizmo, large', 'train', 'good', '', ''],
  ['../imgs/widget/test/crack/001.png', 'gizmo, large', 'test', 'anomalous', '', ''],
];

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, CRLF, BOM and blank lines', () => {
    const r = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n1,\n');
    expect(r.map((x) => x.fields)).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['1', '']]);
    expect(r.map((x) => x.line)).toEqual([1, 2, 4]);
  });

  it('a quoted field over several lines: the row is numbered by its first line; bad quoting names the line', () => {
    const r = parseCsv('a,b\n"two\nlines",x\nc,"d"\n');
    expect(r.map((x) => [x.fields, x.line])).toEqual([
      [['a', 'b'], 1],
      [['two\nlines', 'x'], 2],
      [['c', 'd'], 4],
    ]);
    expect(() => parseCsv('a,b\n1,2\n"open,3\n4,5\n')).toThrow(/^unterminated quoted field starting on line 3$/);
    expect(() => parseCsv('a,b\n"x"y,1\n')).toThrow(/^line 2: Invalid Closing Quote/);
  });
});

describe('manifest checks', () => {
  it("a header without 'split' says so (not 'bad value on line 2'); a JSONL row without it too", async () => {
    const rel = '../imgs/widget/train/good/000.png';
    const f = path.join(root, 'lists', 'nosplit.csv');
    fs.writeFileSync(f, `image,class,label\n${rel},widget,0\n`);
    const msg = await expectUserError(loadManifest(f), `${f} line 1`, "no 'split' column", 'header: image, class, label');
    expect(msg).not.toMatch(/line 2/);
    fs.writeFileSync(f, `file,label\n${rel},0\n`);
    await expectUserError(loadManifest(f), "no 'image', 'class', 'split' columns");
    const j = path.join(root, 'lists', 'nosplit.jsonl');
    fs.writeFileSync(j, JSON.stringify({ image: rel, class: 'widget' }) + '\n');
    await expectUserError(loadManifest(j), `${j} line 1`, "missing 'split'");
    const q = path.join(root, 'lists', 'quote.csv');
    fs.writeFileSync(q, `image,class,split\n"${rel},widget,train\n`);
    await expectUserError(loadManifest(q), q, 'unterminated quoted field starting on line 2');
  });

  it('a normal test row whose mask is all 255 is kept as normal, with a warning naming the mask', async () => {
    const full = path.join(root, 'imgs', 'full_mask.png');
    await writeMaskPng(full, 24, 20, [0, 0, 24, 20]);
    const f = path.join(root, 'lists', 'normal-mask.csv');
    fs.writeFileSync(
      f,
      ['image,class,split,label,mask', '../imgs/widget/train/good/000.png,widget,train,0,', '../imgs/widget/test/good/000.png,widget,test,0,../imgs/full_mask.png'].join('\n'),
    );
    const warnings: string[] = [];
    const ds = await loadManifest(f, { warn: (m) => warnings.push(m) });
    expect(ds.samples).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(full);
    expect(warnings[0]).toContain('100% positive');
    expect(warnings[0]).toMatch(/1 normal \(label 0\) row has a mask marking anomalous pixels; the label wins/);
    // an empty mask on a normal row is fine: no warning
    const empty = path.join(root, 'imgs', 'empty_mask.png');
    await writeMaskPng(empty, 24, 20, null);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('full_mask', 'empty_mask'));
    warnings.length = 0;
    await loadManifest(f, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
  });
});

describe('manifest', () => {
  it('CSV: relative paths, labels in several spellings, optional masks, classes in order of appearance', async () => {
    const csv = ['image,class,split,label,mask,defect', ...rows.map((r) => r.map((f) => (f.includes(',') ? `"${f}"` : f)).join(','))].join('\n');
    const file = path.join(root, 'lists', 'data.csv');
    fs.writeFileSync(file, csv);
    const ds = await loadManifest(file);
    expect(ds.name).toBe('manifest:data.csv');
    expect(ds.classes).toEqual(['widget', 'gizmo, large']);
    expect(ds.samples.map((s) => [s.className, s.split, s.label, s.defectType])).toEqual([
      ['widget', 'train', 0, 'good'],
      ['widget', 'train', 0, 'good'],
      ['widget', 'test', 0, 'good'],
      ['widget', 'test', 1, 'crack'],
      ['gizmo, large', 'train', 0, 'good'],
      ['gizmo, large', 'test', 1, 'anomaly'],
    ]);
    expect(ds.samples[0].imagePath).toBe(path.join(root, 'imgs', 'widget', 'train', 'good', '000.png'));
    expect(ds.samples[0].id).toBe('widget/train/train/good/000');
    expect(ds.samples[3].id).toBe('widget/test/test/crack/000');
    const crack = ds.samples[3];
    expect(crack.maskPath).toBe(path.join(root, 'imgs', 'widget', 'ground_truth', 'crack', '000_mask.png'));
    expect((await ds.loadMask(crack, 12)).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(hasPixelLabels(ds, 'widget')).toBe(true);
    expect(hasPixelLabels(ds, 'gizmo, large')).toBe(false);
    // an anomalous sample without a mask has no pixel labels: loadMask says so instead of inventing zeros
    await expect(ds.loadMask(ds.samples[5], 12)).rejects.toThrow(/no ground-truth mask/);
    expect((await ds.loadImage(ds.samples[4], 10)).length).toBe(300);
  });

  it('JSONL gives the same samples (camelCase aliases, numeric labels)', async () => {
    const file = path.join(root, 'lists', 'data.jsonl');
    const lines = rows.map(([image, cls, split, label, mask, defect]) => {
      const o: Record<string, unknown> = { imagePath: image, className: cls, split };
      if (label !== '') o.label = label === '1' ? 1 : label === '0' ? 0 : label;
      if (mask) o.maskPath = mask;
      if (defect) o.defectType = defect;
      return JSON.stringify(o);
    });
    fs.writeFileSync(file, lines.join('\n') + '\n\n');
    const fromJsonl = readManifest(file);
    const fromCsv = readManifest(path.join(root, 'lists', 'data.csv'));
    expect(fromJsonl).toEqual(fromCsv);
    const ds = await loadDataset({ type: 'manifest', path: 'lists/data.jsonl' }, { baseDir: root });
    expect(ds.samples).toHaveLength(6);
  });

  it('absolute paths work and duplicate rows are rejected', async () => {
    const abs = path.join(root, 'imgs', 'widget', 'train', 'good', '000.png');
    const file = path.join(root, 'abs.csv');
    fs.writeFileSync(file, `image,class,split\n${abs},w,train\n${abs},w,train\n`);
    await expect(loadManifest(file)).rejects.toThrow(/line 3: duplicate image/);
    fs.writeFileSync(file, `image,class,split\n${abs},w,train\n`);
    expect((await loadManifest(file)).samples[0].imagePath).toBe(abs);
  });
});
