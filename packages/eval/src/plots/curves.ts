// "Identical shortcut" curves (UniAD paper, Fig. 3a): per epoch, the training loss (log axis) and the detection /
// localisation AUROC, from the trainer's JSONL log. Rendered with vega-lite -> vega (SVG) -> sharp (PNG).
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError, parseJsonlLines, writeFileAtomic } from '@unified-ad/core';

/** A training line of the log. */
export interface TrainLogRecord {
  epoch: number;
  step?: number;
  train_loss: number;
  lr?: number;
  time_s?: number;
}

/** An evaluation line of the log (values are fractions; null in JSON, i.e. NaN, is kept as NaN). */
export interface EvalLogRecord {
  epoch: number;
  mean: Record<string, number>;
  per_class?: Record<string, Record<string, number>>;
}

export interface TrainingLog {
  train: TrainLogRecord[];
  eval: EvalLogRecord[];
  /** notes about skipped lines (a truncated last line) */
  warnings: string[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : v === null ? NaN : undefined);

function numberRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const n = num(x);
      if (n !== undefined) out[k] = n;
    }
  }
  return out;
}

/**
 * Parses a JSONL training log. Each non-blank line is a JSON object with a numeric `epoch`; it is a training line
 * when it has a numeric `train_loss`, an evaluation line when it has `eval.mean` (an object of numbers), or both
 * (the core trainer writes one line per epoch with `eval` on evaluation epochs). Other keys are ignored; lines with
 * neither part are skipped. A last line that is not valid JSON and has no final newline (a write cut short) is
 * skipped with a warning; any other invalid line is a UserError naming `source:line`.
 */
export function parseTrainingLog(text: string, source = 'log'): TrainingLog {
  const out: TrainingLog = { train: [], eval: [], warnings: [] };
  const { lines, truncated } = parseJsonlLines(text, (n, line) => {
    throw new UserError(`${source}:${n}: not valid JSON: ${line.slice(0, 60)}`);
  });
  if (truncated !== null) out.warnings.push(`${source}:${truncated}: incomplete last line skipped`);
  lines.forEach(({ line: n, value: obj }) => {
    const where = `${source}:${n}`;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new UserError(`${where}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    if (typeof o.epoch !== 'number' || !Number.isFinite(o.epoch)) throw new UserError(`${where}: missing numeric 'epoch'`);
    const epoch = o.epoch;
    const loss = num(o.train_loss);
    if (loss !== undefined) {
      out.train.push({ epoch, train_loss: loss, step: num(o.step), lr: num(o.lr), time_s: num(o.time_s) });
    }
    const ev = o.eval as Record<string, unknown> | undefined;
    if (ev !== undefined && ev !== null) {
      if (typeof ev !== 'object' || typeof ev.mean !== 'object' || ev.mean === null) throw new UserError(`${where}: 'eval' needs an object 'mean'`);
      const per: Record<string, Record<string, number>> = {};
      if (typeof ev.per_class === 'object' && ev.per_class !== null) {
        for (const [c, v] of Object.entries(ev.per_class)) per[c] = numberRecord(v);
      }
      const mean = numberRecord(ev.mean);
      // the shortcut ratio of Fig. 3 (engine's TestSet) is read as one more metric, per class and mean
      const sc = ev.shortcut as { ratio?: unknown; per_class?: Record<string, unknown> } | undefined;
      if (sc && typeof sc === 'object') {
        const r = num(sc.ratio);
        if (r !== undefined) mean.shortcut_ratio = r;
        for (const [c, v] of Object.entries(sc.per_class ?? {})) {
          const x = num(v);
          if (x !== undefined) (per[c] ??= {}).shortcut_ratio = x;
        }
      }
      out.eval.push({ epoch, mean, per_class: Object.keys(per).length ? per : undefined });
    }
  });
  return out;
}

/** Reads and parses a JSONL log file. */
export function readTrainingLog(file: string): TrainingLog {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read training log (${(e as Error).message.split('\n')[0]})`);
  }
  return parseTrainingLog(text, file);
}

export interface EpochPoint {
  epoch: number;
  /** mean train_loss of the epoch's training lines */
  train_loss?: number;
  /** evaluation metrics of the epoch (fractions) */
  i_auroc?: number;
  p_auroc?: number;
  /** shortcut ratio: mean error on defect pixels / on normal pixels (1 = anomalies copied as well as normal regions) */
  shortcut_ratio?: number;
}

/** One point per epoch: mean training loss over the epoch's lines, and the epoch's last evaluation. */
export function epochPoints(log: TrainingLog, className?: string): EpochPoint[] {
  const by = new Map<number, { sum: number; n: number; i?: number; p?: number; r?: number }>();
  const get = (e: number) => {
    let v = by.get(e);
    if (!v) by.set(e, (v = { sum: 0, n: 0 }));
    return v;
  };
  for (const t of log.train) {
    if (!Number.isFinite(t.train_loss)) continue;
    const v = get(t.epoch);
    v.sum += t.train_loss;
    v.n++;
  }
  for (const e of log.eval) {
    const src = className ? e.per_class?.[className] : e.mean;
    if (!src) continue;
    const v = get(e.epoch);
    if (src.i_auroc !== undefined) v.i = src.i_auroc;
    if (src.p_auroc !== undefined) v.p = src.p_auroc;
    if (src.shortcut_ratio !== undefined) v.r = src.shortcut_ratio;
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, v]) => ({ epoch, train_loss: v.n ? v.sum / v.n : undefined, i_auroc: v.i, p_auroc: v.p, shortcut_ratio: v.r }));
}

export interface CurveSeries {
  /** method name (legend) */
  name: string;
  log: TrainingLog;
}

export interface CurveOptions {
  title?: string;
  /** plot one class's per-class values instead of the mean */
  className?: string;
  /** panel width / height in px (default 520 / 190) */
  width?: number;
  height?: number;
  /** PNG pixel density relative to the SVG (default 2) */
  scale?: number;
}

const FONT = 'DejaVu Sans';

/**
 * The vega-lite spec. One method: loss panel (blue) over an AUROC panel with detection (green) and localisation
 * (red), as in the paper's figure. Several methods: loss, I-AUROC and P-AUROC panels, one colour per method.
 */
export function shortcutCurveSpec(series: CurveSeries[], opts: CurveOptions = {}): Record<string, unknown> {
  if (series.length === 0) throw new UserError('shortcutCurveSpec: no series given');
  const width = opts.width ?? 520;
  const height = opts.height ?? 190;
  const rows: { method: string; epoch: number; metric: string; value: number }[] = [];
  for (const s of series) {
    const pts = epochPoints(s.log, opts.className);
    for (const p of pts) {
      if (p.train_loss !== undefined && p.train_loss > 0) rows.push({ method: s.name, epoch: p.epoch, metric: 'training loss', value: p.train_loss });
      if (p.i_auroc !== undefined && Number.isFinite(p.i_auroc)) rows.push({ method: s.name, epoch: p.epoch, metric: 'I-AUROC (detection)', value: 100 * p.i_auroc });
      if (p.p_auroc !== undefined && Number.isFinite(p.p_auroc)) rows.push({ method: s.name, epoch: p.epoch, metric: 'P-AUROC (localisation)', value: 100 * p.p_auroc });
      if (p.shortcut_ratio !== undefined && Number.isFinite(p.shortcut_ratio)) rows.push({ method: s.name, epoch: p.epoch, metric: 'shortcut ratio', value: p.shortcut_ratio });
    }
  }
  if (rows.length === 0) throw new UserError('shortcutCurveSpec: the logs have no training loss or AUROC values');
  const epochs = rows.map((r) => r.epoch);
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'epoch',
    axis: { tickMinStep: 1 },
    scale: { domain: [Math.min(...epochs), Math.max(...epochs)], nice: false },
  };
  const methodColor = { field: 'method', type: 'nominal', title: 'method', scale: { domain: series.map((s) => s.name) }, legend: { labelLimit: 0 } };
  const aurocScale = { zero: false, nice: true };
  const single = series.length === 1;
  const lossPanel = {
    height,
    width,
    transform: [{ filter: "datum.metric === 'training loss'" }],
    mark: { type: 'line', strokeWidth: 2, ...(single ? { color: '#1f77b4' } : {}) },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: 'training loss (log)', scale: { type: 'log' } },
      ...(single ? {} : { color: methodColor }),
    },
  };
  const layerPoints = (mark: Record<string, unknown>, enc: Record<string, unknown>) => ({
    layer: [
      { mark: { type: 'line', strokeWidth: 2, ...mark }, encoding: enc },
      { mark: { type: 'point', filled: true, size: 40, ...mark }, encoding: enc },
    ],
  });
  const panels: Record<string, unknown>[] = [lossPanel];
  if (single) {
    panels.push({
      height,
      width,
      transform: [{ filter: "datum.metric !== 'training loss' && datum.metric !== 'shortcut ratio'" }],
      ...layerPoints(
        {},
        {
          x,
          y: { field: 'value', type: 'quantitative', title: 'AUROC (%)', scale: aurocScale },
          color: {
            field: 'metric',
            type: 'nominal',
            title: null,
            scale: { domain: ['I-AUROC (detection)', 'P-AUROC (localisation)'], range: ['#2ca02c', '#d62728'] },
            legend: { orient: 'top', direction: 'horizontal', labelLimit: 0, symbolType: 'stroke' },
          },
        },
      ),
    });
  } else {
    for (const m of ['I-AUROC (detection)', 'P-AUROC (localisation)']) {
      panels.push({
        height,
        width,
        transform: [{ filter: `datum.metric === '${m}'` }],
        ...layerPoints({}, { x, y: { field: 'value', type: 'quantitative', title: `${m.split(' ')[0]} (%)`, scale: aurocScale }, color: methodColor }),
      });
    }
  }
  if (rows.some((r) => r.metric === 'shortcut ratio')) {
    panels.push({
      height,
      width,
      layer: [
        ...layerPoints(single ? { color: '#9467bd' } : {}, {
          x,
          y: { field: 'value', type: 'quantitative', title: 'shortcut ratio (defect / normal error)', scale: { zero: false, nice: true } },
          ...(single ? {} : { color: methodColor }),
        }).layer.map((l) => ({ ...l, transform: [{ filter: "datum.metric === 'shortcut ratio'" }] })),
        // 1 = anomalies reconstructed as well as normal regions (the identical shortcut)
        { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { y: { field: 'one', type: 'quantitative' } } },
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: { text: opts.title, fontSize: 16 } } : {}),
    data: { values: rows },
    vconcat: panels,
    spacing: 18,
    resolve: single ? { scale: { color: 'independent' } } : { scale: { color: 'shared' } },
    background: 'white',
    padding: 12,
    config: {
      font: FONT,
      axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 12, titleFontSize: 13, symbolStrokeWidth: 3 },
      view: { stroke: '#bbb' },
    },
  };
}

/** Renders a vega-lite spec to SVG text (vega and vega-lite are ESM-only: loaded with import()). */
export async function renderVegaLiteSvg(spec: Record<string, unknown>): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG text to PNG with sharp (librsvg; text needs system fonts, e.g. fonts-dejavu-core). */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale }).flatten({ background: '#ffffff' }).png().toBuffer();
}

/** SVG and PNG of the curves. */
export async function renderShortcutCurves(series: CurveSeries[], opts: CurveOptions = {}): Promise<{ svg: string; png: Buffer }> {
  const svg = await renderVegaLiteSvg(shortcutCurveSpec(series, opts));
  return { svg, png: await svgToPng(svg, opts.scale ?? 2) };
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeShortcutCurves(base: string, series: CurveSeries[], opts: CurveOptions = {}): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderShortcutCurves(series, opts);
  const b = path.resolve(base.replace(/\.(svg|png)$/i, ''));
  writeFileAtomic(`${b}.svg`, svg);
  writeFileAtomic(`${b}.png`, png);
  return { svg: `${b}.svg`, png: `${b}.png` };
}
