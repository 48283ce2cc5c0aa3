// Pictures of experiments, drawn with the eval package's renderers (vega-lite → SVG → PNG).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '@unified-ad/core';
import { epochPoints, readTrainingLog, renderVegaLiteSvg, svgToPng, type EpochPoint } from '@unified-ad/eval';
import type { CellResult } from './grid/plan';

/** The first epoch with the highest finite value (the peak of a curve), or null when no value is finite. */
export function peakEpoch(epochs: number[], values: number[]): number | null {
  let best: number | null = null;
  let bestV = -Infinity;
  epochs.forEach((e, k) => {
    const v = values[k];
    if (v !== undefined && Number.isFinite(v) && v > bestV) (best = e), (bestV = v);
  });
  return best;
}

/** One net's curves: its per-epoch points (training loss, test I-/P-AUROC, shortcut ratio). */
export interface NetCurves {
  name: string;
  points: EpochPoint[];
}

const COLORS = { loss: '#1f77b4', i: '#2ca02c', p: '#d62728', ratio: '#9467bd' };
const SERIES = ['training loss (log, left axis)', 'I-AUROC (detection)', 'P-AUROC (localisation)'];
const FONT = 'DejaVu Sans';

/**
 * The Fig. 3a picture as a vega-lite spec: one column per net. Top panel: training loss on a log axis (left) and
 * test I-/P-AUROC in % (right, the same range for every net), the peak (epoch of the highest P-AUROC) marked
 * with a dashed rule and a labelled diamond on the P-AUROC curve. Below it, when the logs have it, the shortcut
 * ratio (defect / normal reconstruction error; 1 = anomalies copied as well as normal regions).
 */
export function fig3CurvesSpec(nets: NetCurves[], opts: { title?: string; width?: number; height?: number } = {}): Record<string, unknown> {
  const width = opts.width ?? 250;
  const height = opts.height ?? 190;
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const auroc = nets.flatMap((n) => n.points.flatMap((p) => [p.i_auroc, p.p_auroc].filter(finite).map((v) => 100 * v)));
  const aurocLo = auroc.length ? Math.max(0, Math.floor(Math.min(...auroc) / 5) * 5) : 0;
  const ratios = nets.flatMap((n) => n.points.map((p) => p.shortcut_ratio).filter(finite));
  const ratioDomain = ratios.length ? [Math.min(1, ...ratios) * 0.95, Math.max(1, ...ratios) * 1.05] : null;
  const color = {
    field: 'metric', type: 'nominal', title: null,
    scale: { domain: SERIES, range: [COLORS.loss, COLORS.i, COLORS.p] },
    legend: { orient: 'top', direction: 'horizontal', labelLimit: 0, symbolType: 'stroke' },
  };
  const columns = nets.map((n) => {
    const rows: { epoch: number; metric: string; value: number }[] = [];
    for (const p of n.points) {
      if (finite(p.train_loss) && p.train_loss > 0) rows.push({ epoch: p.epoch, metric: SERIES[0], value: p.train_loss });
      if (finite(p.i_auroc)) rows.push({ epoch: p.epoch, metric: SERIES[1], value: 100 * p.i_auroc });
      if (finite(p.p_auroc)) rows.push({ epoch: p.epoch, metric: SERIES[2], value: 100 * p.p_auroc });
    }
    const epochs = n.points.map((p) => p.epoch);
    const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 }, scale: { domain: [Math.min(...epochs), Math.max(...epochs)], nice: false } };
    const byP = peakEpoch(epochs, n.points.map((p) => p.p_auroc ?? NaN));
    const pk = byP === null ? null : n.points.find((p) => p.epoch === byP)!;
    const right = pk !== null && pk.epoch > (Math.min(...epochs) + Math.max(...epochs)) / 2;
    const aurocY = { field: 'value', type: 'quantitative', title: 'test AUROC (%)', scale: { domain: [aurocLo, 100], nice: false }, axis: { orient: 'right' } };
    const lossLayer = {
      transform: [{ filter: `datum.metric === '${SERIES[0]}'` }],
      mark: { type: 'line', strokeWidth: 2.5 },
      encoding: { x, y: { field: 'value', type: 'quantitative', title: 'training loss (log)', scale: { type: 'log', nice: false, padding: 6 }, axis: { orient: 'left', titleColor: COLORS.loss } }, color },
    };
    const aurocEnc = { x, y: aurocY, color };
    const aurocLayer: Record<string, unknown> = {
      layer: [
        { transform: [{ filter: `datum.metric !== '${SERIES[0]}'` }], mark: { type: 'line', strokeWidth: 2 }, encoding: aurocEnc },
        { transform: [{ filter: `datum.metric !== '${SERIES[0]}'` }], mark: { type: 'point', filled: true, size: 30 }, encoding: aurocEnc },
        ...(pk
          ? [
              { name: `peak-${n.name}`, data: { values: [{ epoch: pk.epoch, value: 100 * pk.p_auroc!, label: `peak e${pk.epoch}: ${(100 * pk.p_auroc!).toFixed(1)}` }] }, layer: [
                { mark: { type: 'rule', strokeDash: [4, 3], color: '#444' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
                { mark: { type: 'point', shape: 'diamond', size: 160, filled: true, color: COLORS.p, stroke: '#000', strokeWidth: 1.2 }, encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } } },
                // the label over a white halo, readable where it crosses a curve
                ...[{ stroke: '#fff', strokeWidth: 4 }, {}].map((halo) => ({
                  mark: { type: 'text', dy: -14, dx: right ? -6 : 6, align: right ? 'right' : 'left', fontSize: 12, fontWeight: 'bold', color: '#222', ...halo },
                  encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' }, text: { field: 'label' } },
                })),
              ] },
            ]
          : []),
      ],
    };
    const panels: Record<string, unknown>[] = [{ width, height, data: { values: rows }, layer: [lossLayer, aurocLayer], resolve: { scale: { y: 'independent' } } }];
    const ratioRows = n.points.filter((p) => finite(p.shortcut_ratio)).map((p) => ({ epoch: p.epoch, value: p.shortcut_ratio! }));
    if (ratioDomain) {
      const enc = { x, y: { field: 'value', type: 'quantitative', title: 'shortcut ratio', scale: { domain: ratioDomain, nice: false } } };
      panels.push({
        width, height: Math.round(height * 0.45), data: { values: ratioRows },
        layer: [
          { mark: { type: 'line', strokeWidth: 2, color: COLORS.ratio }, encoding: enc },
          { mark: { type: 'point', filled: true, size: 30, color: COLORS.ratio }, encoding: enc },
          // 1 = anomalies reconstructed as well as normal regions (the identical shortcut)
          { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { y: { field: 'one', type: 'quantitative' } } },
        ],
      });
    }
    return { title: { text: n.name, fontSize: 15, fontWeight: 'bold' }, vconcat: panels, spacing: 8 };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: { text: opts.title, fontSize: 16, subtitle: 'dashed rule and ◆: the epoch of the highest test P-AUROC (peak); shortcut ratio = defect / normal error, 1 = the identical shortcut', subtitleFontSize: 12 } } : {}),
    hconcat: columns,
    spacing: 28,
    resolve: { scale: { color: 'shared' } },
    background: 'white',
    padding: 12,
    config: {
      font: FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 12, symbolStrokeWidth: 3 },
      view: { stroke: '#bbb' },
    },
  };
}

/**
 * Identical-shortcut curves (paper Fig. 3a) of several runs, one column per method (its first seed's run):
 * writes <base>.png and <base>.svg; returns the PNG path, or null when no run has a training log.
 */
export async function writeCurvesPicture(base: string, results: CellResult[], title: string): Promise<string | null> {
  const nets: NetCurves[] = [];
  for (const m of [...new Set(results.map((r) => r.cell.method))]) {
    const run = results.filter((r) => r.cell.method === m).sort((a, b) => a.cell.seed - b.cell.seed)[0];
    const file = path.join(run.dir, 'metrics.jsonl');
    if (!fs.existsSync(file)) continue;
    const points = epochPoints(readTrainingLog(file));
    if (points.length) nets.push({ name: m, points });
  }
  if (!nets.length) return null;
  const svg = await renderVegaLiteSvg(fig3CurvesSpec(nets, { title }));
  const b = path.resolve(base.replace(/\.(svg|png)$/i, ''));
  writeFileAtomic(`${b}.svg`, svg);
  writeFileAtomic(`${b}.png`, await svgToPng(svg, 2));
  return `${b}.png`;
}
