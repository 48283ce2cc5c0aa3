import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng, UserError } from '@unified-ad/core';
import { applyColormap, colormapLut } from '../src/plots/colormap';
import { epochPoints, parseTrainingLog, readTrainingLog, shortcutCurveSpec, writeShortcutCurves } from '../src/plots/curves';
import { pickGridSamples, renderAnomalyGrid, writeAnomalyGrid } from '../src/plots/grid';
import { syntheticGridSamples, syntheticTrainingLog } from './synthetic';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-plots-'));
console.log(`plots test: pictures written to ${outDir}`);

describe('colormaps', () => {
  it('LUT end points are the published colours', () => {
    const hex = (lut: Uint8Array, i: number) => Array.from(lut.slice(3 * i, 3 * i + 3), (v) => v.toString(16).padStart(2, '0')).join('');
    expect(hex(colormapLut('viridis'), 0)).toBe('440154');
    expect(hex(colormapLut('viridis'), 255)).toBe('fde725');
    expect(hex(colormapLut('inferno'), 0)).toBe('000004');
    expect(hex(colormapLut('inferno'), 255)).toBe('fcffa4');
    expect(hex(colormapLut('turbo'), 0)).toBe('30123b');
    expect(hex(colormapLut('turbo'), 255)).toBe('7a0403');
  });
  it('maps a range with clamping; NaN and constant ranges are safe', () => {
    const rgb = applyColormap([0, 1, 2, -5, NaN], 0, 2, 'viridis');
    const lut = colormapLut('viridis');
    expect(Array.from(rgb.slice(0, 3))).toEqual(Array.from(lut.slice(0, 3)));
    expect(Array.from(rgb.slice(3, 6))).toEqual(Array.from(lut.slice(128 * 3, 128 * 3 + 3)));
    expect(Array.from(rgb.slice(6, 9))).toEqual(Array.from(lut.slice(255 * 3)));
    expect(Array.from(rgb.slice(9, 12))).toEqual(Array.from(lut.slice(0, 3)));
    expect(Array.from(rgb.slice(12, 15))).toEqual(Array.from(lut.slice(0, 3)));
    expect(applyColormap([3, 3], 3, 3, 'turbo')).toHaveLength(6);
    expect(() => colormapLut('jet' as never)).toThrow(UserError);
  });
});

describe('fonts for text in PNGs', () => {
  // librsvg draws missing glyphs as identical boxes: 'iiii' and 'WWWW' would then cover the same pixels.
  it('text renders with real glyphs (else: apt-get install -y fonts-dejavu-core)', async () => {
    const ink = async (t: string) => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/><text x="5" y="30" font-size="28" font-family="DejaVu Sans, sans-serif">${t}</text></svg>`;
      const { data } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
      let dark = 0;
      for (const v of data) if (v < 128) dark++;
      return dark;
    };
    const thin = await ink('iiii');
    const wide = await ink('WWWW');
    expect(thin).toBeGreaterThan(0);
    expect(wide, 'glyphs look identical: system fonts missing (apt-get install -y fonts-dejavu-core)').toBeGreaterThan(1.5 * thin);
  });
});

describe('training log loader', () => {
  it('reads training and eval lines, tolerates extra keys, null -> NaN, combined lines and a cut last line', () => {
    const text = [
      '{"epoch":1,"step":40,"train_loss":0.5,"lr":1e-4,"time_s":2,"grad_norm":3}',
      '{"epoch":1,"step":80,"train_loss":0.3}',
      '',
      '{"epoch":2,"train_loss":0.2,"eval":{"mean":{"i_auroc":0.9,"p_auroc":null},"per_class":{"bottle":{"i_auroc":0.95}}}}',
      '{"note":"ignored", "epoch": 2}',
      '{"epoch":3,"eval":{"mean":{"i_auroc":0.8,"p_auroc":0.7}}}',
      '{"epoch":4,"train_lo',
    ].join('\n');
    const log = parseTrainingLog(text, 'run/metrics.jsonl');
    expect(log.train.map((t) => t.train_loss)).toEqual([0.5, 0.3, 0.2]);
    expect(log.eval).toHaveLength(2);
    expect(log.eval[0].mean.p_auroc).toBeNaN();
    expect(log.eval[0].per_class?.bottle.i_auroc).toBe(0.95);
    expect(log.warnings).toEqual(['run/metrics.jsonl:7: incomplete last line skipped']);
    const pts = epochPoints(log);
    expect(pts.map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(pts[0].train_loss).toBeCloseTo(0.4, 12);
    expect(pts[1].i_auroc).toBe(0.9);
    expect(pts[2].train_loss).toBeUndefined();
    expect(epochPoints(log, 'bottle')[1].i_auroc).toBe(0.95);
  });
  it('bad lines give a UserError naming file and line', () => {
    expect(() => parseTrainingLog('{"epoch":1,"train_loss":1}\nnot json\n{"epoch":2}\n', 'a.jsonl')).toThrow(/a\.jsonl:2: not valid JSON/);
    expect(() => parseTrainingLog('{"train_loss":1}\n', 'a.jsonl')).toThrow(/a\.jsonl:1: missing numeric 'epoch'/);
    expect(() => parseTrainingLog('{"epoch":1,"eval":{"x":1}}\n', 'a.jsonl')).toThrow(/'eval' needs an object 'mean'/);
    expect(() => readTrainingLog(path.join(outDir, 'missing.jsonl'))).toThrow(/cannot read training log/);
  });
});

describe('identical-shortcut curves', () => {
  it('one method and an overlay of three: SVG + PNG with axis titles and legend', async () => {
    const logs = [25, 45, 70].map((peak, i) => {
      const f = path.join(outDir, `log${i}.jsonl`);
      fs.writeFileSync(f, syntheticTrainingLog(60, 5, peak, i + 1));
      return readTrainingLog(f);
    });
    const one = await writeShortcutCurves(path.join(outDir, 'shortcut_mlp'), [{ name: 'MLP', log: logs[0] }], { title: 'MLP: identical shortcut' });
    const many = await writeShortcutCurves(
      path.join(outDir, 'shortcut_overlay.png'),
      [{ name: 'MLP', log: logs[0] }, { name: 'CNN', log: logs[1] }, { name: 'Transformer', log: logs[2] }],
      { title: 'Identical shortcut' },
    );
    for (const f of [one, many]) {
      const svg = fs.readFileSync(f.svg, 'utf8');
      expect(svg).toContain('training loss (log)');
      expect(svg).toContain('epoch');
      const meta = await sharp(f.png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(800);
    }
    const svgOne = fs.readFileSync(one.svg, 'utf8');
    expect(svgOne).toContain('I-AUROC (detection)');
    expect(svgOne).toContain('P-AUROC (localisation)');
    const svgMany = fs.readFileSync(many.svg, 'utf8');
    for (const m of ['MLP', 'CNN', 'Transformer', 'I-AUROC (%)', 'P-AUROC (%)']) expect(svgMany).toContain(m);
    // the PNG is not blank: a good share of non-white pixels
    const { data, info } = await sharp(many.png).raw().toBuffer({ resolveWithObject: true });
    let dark = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i] < 200) dark++;
    expect(dark / (info.width * info.height)).toBeGreaterThan(0.005);
  });
  it('a log without values is an error', () => {
    expect(() => shortcutCurveSpec([{ name: 'x', log: { train: [], eval: [], warnings: [] } }])).toThrow(/no training loss or AUROC/);
  });
});

describe('anomaly-map grid', () => {
  it('image | mask | overlay | reconstruction error, with the right tiles in the right place', async () => {
    const samples = syntheticGridSamples(2, 3, 64);
    const file = await writeAnomalyGrid(path.join(outDir, 'grid_synthetic.png'), samples, { title: 'synthetic class', tile: 128 });
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    // layout: label column 130 px, tiles 128 px with 6 px gaps, title 40 px + header 26 px; 4 columns
    expect(info.width).toBe(130 + 4 * (128 + 6) + 12);
    expect(info.height).toBe(40 + 26 + 5 * (128 + 6) + 84);
    const meanTile = (row: number, col: number) => {
      let s = 0;
      const left = 130 + col * 134;
      const top = 66 + row * 134;
      for (let y = top; y < top + 128; y++) for (let x = left; x < left + 128; x++) s += data[(y * info.width + x) * info.channels];
      return s / (128 * 128);
    };
    expect(meanTile(0, 1)).toBe(0); // normal: empty mask tile
    expect(meanTile(3, 1)).toBeGreaterThan(5); // anomalous: white mask region
    // the heat map is hotter (redder) on anomalous rows than on normal rows
    expect(meanTile(3, 2)).toBeGreaterThan(meanTile(0, 2));
    expect(meanTile(3, 3)).toBeGreaterThan(meanTile(0, 3));
  });
  it('works without reconstruction error and with a given range; picks samples deterministically', async () => {
    const samples = syntheticGridSamples(1, 1, 32).map(({ reconError: _unused, ...s }) => s);
    const png = await renderAnomalyGrid(samples, { range: [0, 1], colormap: 'inferno' });
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(130 + 3 * 166 + 12);
    const labels = [0, 1, 0, 1, 1, 0, 1];
    expect(pickGridSamples(labels, 2, 2)).toEqual([0, 2, 1, 3]);
    const a = pickGridSamples(labels, 2, 2, new Rng(5));
    expect(pickGridSamples(labels, 2, 2, new Rng(5))).toEqual(a);
    expect(a.filter((i) => labels[i] === 1)).toHaveLength(2);
    await expect(renderAnomalyGrid([])).rejects.toThrow(UserError);
    await expect(renderAnomalyGrid([{ ...samples[0], mask: new Float32Array(3) }])).rejects.toThrow(/mask has 3 values/);
  });
});
