// The Fig. 3 pictures from hand-made data: the Fig. 3b grid (cells, one colour scale per row) and the peak marker
// of the curves (at the epoch of the highest P-AUROC).
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { AnomalyMap } from '@unified-ad/core';
import type { KeptMapSample } from '@unified-ad/engine';
import { fig3bLayout, formatRange, renderFig3bSvg, type Fig3bNet } from '../src/fig3b';
import { fig3CurvesSpec, peakEpoch } from '../src/pictures';
import { svgToPng } from '@unified-ad/eval';

const S = 4;
const sample = (id: string, className: string, defectType: string): KeptMapSample => ({
  id, className, defectType, image: new Uint8Array(S * S * 3).fill(128), mask: Uint8Array.from({ length: S * S }, (_, i) => (i === 5 ? 1 : 0)),
});
/** a map of constant `base` with one pixel set to `peak` */
const map = (base: number, peak: number): AnomalyMap => ({ data: Float32Array.from({ length: S * S }, (_, i) => (i === 5 ? peak : base)), height: S, width: S });

describe('Fig. 3b grid', () => {
  const samples = [sample('fabric/hole/000', 'fabric', 'hole'), sample('disk/crack/001', 'disk', 'crack')];
  const nets: Fig3bNet[] = [
    // row 0: min 0.1 (mlp final), max 9 (cnn peak); row 1: min 0.5, max 40 (mlp final)
    { name: 'mlp', peak: 3, final: 8, peakMaps: [map(1, 2), map(0.5, 3)], finalMaps: [map(0.1, 0.2), map(1, 40)] },
    { name: 'cnn', peak: 5, final: 8, peakMaps: [map(1, 9), map(2, 3)], finalMaps: [map(1, 1), null] },
  ];
  const layout = fig3bLayout(samples, S, nets);

  it('rows = images; columns = input | ground truth | per net its peak and final epoch', () => {
    expect(layout.columns).toEqual(['input', 'ground truth', 'mlp @peak e3', 'mlp final e8', 'cnn @peak e5', 'cnn final e8']);
    expect(layout.rows).toHaveLength(2);
    for (const r of layout.rows) expect(r.tiles.map((t) => t.kind)).toEqual(['image', 'mask', 'map', 'map', 'map', 'map']);
    expect(layout.rows[1]!.label).toEqual(['disk', 'crack', '001']);
    const t = layout.rows[0]!.tiles[4]!;
    expect(t.kind === 'map' && t.net === 'cnn' && t.epoch === 5 && t.map === nets[1]!.peakMaps[0]).toBe(true);
  });

  it('one colour range per row: min and max over every net and both epochs of that row only', () => {
    expect(layout.rows[0]!.range).toEqual([expect.closeTo(0.1, 6), 9]);
    expect(layout.rows[1]!.range).toEqual([0.5, 40]);
  });

  it('renders every tile, a colour bar with its range per row, and the headers; the PNG has the SVG size × 2', async () => {
    const svg = await renderFig3bSvg(layout, { title: 't', caption: ['one scale per row'], tile: 40 });
    // 2 rows × (input + ground truth + 3 maps) + 1 missing map (grey) + 2 colour bars
    expect(svg.match(/<image /g)).toHaveLength(2 * 5 + 1 + 2);
    expect(svg).toContain('no map');
    for (const s of ['mlp', 'cnn', '@peak e3', 'final e8', '@peak e5', 'one scale per row', '>40.0<', '>0.500<', '>9.00<', '>0.100<']) expect(svg).toContain(s);
    const png = await sharp(await svgToPng(svg, 2)).metadata();
    const w = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(png.width).toBe(2 * w);
  });

  it('the range labels share one notation', () => {
    expect(formatRange([0.5, 40])).toEqual(['0.500', '40.0']);
    expect(formatRange([0.0003, 0.072])).toEqual(['3.00e-4', '7.20e-2']);
  });
});

describe('Fig. 3a curves', () => {
  it('peakEpoch: the first epoch with the highest finite value', () => {
    expect(peakEpoch([2, 4, 6, 8], [0.5, 0.9, 0.9, NaN])).toBe(4);
    expect(peakEpoch([2, 4], [NaN, NaN])).toBeNull();
  });

  it('one column per net, loss on a log axis, the peak marked at the epoch of the highest P-AUROC', () => {
    const points = [1, 2, 3, 4, 5, 6, 7, 8].map((epoch) => ({
      epoch, train_loss: 1 / epoch,
      // P-AUROC peaks at epoch 4, I-AUROC at 6, the last epoch is 8
      p_auroc: [0.6, 0.7, 0.8, 0.95, 0.9, 0.85, 0.8, 0.7][epoch - 1], i_auroc: [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.8, 0.75][epoch - 1],
      shortcut_ratio: 2 / epoch,
    }));
    const spec = fig3CurvesSpec([{ name: 'mlp', points }, { name: 'uniad', points: points.map((p) => ({ ...p, p_auroc: p.epoch / 10 })) }]);
    const cols = spec.hconcat as Record<string, unknown>[];
    expect(cols.map((c) => (c.title as { text: string }).text)).toEqual(['mlp', 'uniad']);
    const find = (o: unknown, pred: (x: Record<string, unknown>) => boolean): Record<string, unknown> | undefined => {
      if (!o || typeof o !== 'object') return undefined;
      if (!Array.isArray(o) && pred(o as Record<string, unknown>)) return o as Record<string, unknown>;
      for (const v of Object.values(o)) {
        const hit = find(v, pred);
        if (hit) return hit;
      }
      return undefined;
    };
    const peakOf = (name: string) => (find(spec, (x) => x.name === `peak-${name}`)!.data as { values: { epoch: number; value: number; label: string }[] }).values[0]!;
    expect(peakOf('mlp')).toMatchObject({ epoch: 4, value: expect.closeTo(95, 6), label: 'peak e4: 95.0' });
    expect(peakOf('uniad').epoch).toBe(8);
    const logY = find(cols[0], (x) => (x.scale as { type?: string } | undefined)?.type === 'log');
    expect(logY?.title).toBe('training loss (log)');
    expect(find(cols[0], (x) => (x.y as { title?: string } | undefined)?.title === 'shortcut ratio')).toBeDefined();
  });
});
