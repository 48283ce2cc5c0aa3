// `fig3`: the "identical shortcut" analysis (paper Fig. 3a). MLP, CNN and Transformer reconstruction nets, and
// UniAD, trained on the same features in the unified setting; per epoch: training loss and the test I-AUROC /
// P-AUROC. The baselines' performance peaks and then drops while the loss keeps falling; UniAD's does not.
import * as path from 'node:path';
import { writeFileAtomic } from '@unified-ad/core';
import type { CellResult, ExperimentDef } from '../grid/plan';
import { tableToText, writeTable, type Table } from '../tables';
import { peakEpoch, writeCurvesPicture } from '../pictures';
import { writeFig3bPicture } from '../fig3b';
import { gridMethods, methodGrid } from './common';

/** Per-epoch values of one method (mean over seeds). */
export interface CurveSeries {
  method: string;
  epoch: number[];
  loss: number[];
  i_auroc: number[];
  p_auroc: number[];
  /** test shortcut ratio (defect / normal reconstruction error; 1 = the identical shortcut), NaN where not logged */
  ratio: number[];
}

export const FIG3_METHODS = ['mlp', 'cnn', 'transformer', 'uniad'];
const EVAL_EVERY = { smoke: 1, cpu: 2, paper: 10 } as const;

/**
 * The cpu budget's nets, set up to copy (issue: "no dropout, wide enough to represent the identity, a schedule
 * that lets the loss keep falling") and sized so the four runs take about an hour on 2 cores: the MLP twice as wide
 * as the 152 feature channels (so ReLU(x) − ReLU(−x) = x fits through it), the CNN wider than them, no dropout
 * and a constant lr for the three plain nets; UniAD is its cpu profile, shortened to 10 epochs with the lr step at
 * its 80 %. Per-net evaluation spacing gives each curve 10–15 points. The user's --set still wins.
 */
export const FIG3_CPU: Record<string, { model?: Record<string, unknown>; train: Record<string, unknown> }> = {
  mlp: { model: { hiddenDim: 512, dropout: 0 }, train: { epochs: 60, lr: 0.001, schedule: { kind: 'constant' }, evalEvery: 4 } },
  cnn: { model: { hiddenDim: 160, dropout: 0 }, train: { epochs: 30, lr: 0.001, schedule: { kind: 'constant' }, evalEvery: 2 } },
  transformer: { model: { dropout: 0 }, train: { epochs: 10, lr: 0.0005, schedule: { kind: 'constant' }, evalEvery: 1 } },
  uniad: { train: { epochs: 10, lrStepSize: 8, evalEvery: 1 } },
};

/** A net's raw config for fig3: the budget's evaluation spacing, kept maps for Fig. 3b, the cpu schedule above. */
export function fig3Edit(raw: Record<string, unknown>, method: string, budget: keyof typeof EVAL_EVERY): Record<string, unknown> {
  const over = budget === 'cpu' ? FIG3_CPU[method] : undefined;
  const model = raw.model as { config?: Record<string, unknown> } | undefined;
  return {
    ...raw,
    ...(over?.model && model ? { model: { ...model, config: { ...(model.config ?? {}), ...over.model } } } : {}),
    train: { ...(raw.train as object), evalEvery: EVAL_EVERY[budget], ...(over?.train ?? {}) },
    eval: { ...(raw.eval as object), periodicMetrics: ['i_auroc', 'p_auroc'], keepMaps: FIG3B_IMAGES },
  };
}
/** anomalous test images whose maps every periodic evaluation keeps, for Fig. 3b (eval.keepMaps) */
export const FIG3B_IMAGES = 4;

/** Per-method, per-epoch series (the first seed's run; with several seeds, the mean over seeds). */
export function fig3Series(results: CellResult[]): CurveSeries[] {
  const out: CurveSeries[] = [];
  const methods = [...new Set(results.map((r) => r.cell.method))];
  for (const m of methods) {
    const runs = results.filter((r) => r.cell.method === m);
    const byEpoch = new Map<number, { loss: number[]; i: number[]; p: number[]; r: number[] }>();
    for (const r of runs)
      for (const h of r.result.groups[0]?.history ?? []) {
        const e = byEpoch.get(h.epoch) ?? { loss: [], i: [], p: [], r: [] };
        e.loss.push(h.train_loss);
        const ev = h.eval as { mean?: Record<string, number>; shortcut?: { ratio?: number } } | undefined;
        if (ev?.mean) {
          e.i.push(ev.mean.i_auroc);
          e.p.push(ev.mean.p_auroc);
        }
        if (typeof ev?.shortcut?.ratio === 'number') e.r.push(ev.shortcut.ratio);
        byEpoch.set(h.epoch, e);
      }
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
    const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
    out.push({
      method: m,
      epoch: epochs,
      loss: epochs.map((e) => mean(byEpoch.get(e)!.loss)),
      i_auroc: epochs.map((e) => mean(byEpoch.get(e)!.i)),
      p_auroc: epochs.map((e) => mean(byEpoch.get(e)!.p)),
      ratio: epochs.map((e) => mean(byEpoch.get(e)!.r)),
    });
  }
  return out;
}

/** Peak vs. final performance per method: the drop after the peak is the identical shortcut's signature. */
export function fig3Table(series: CurveSeries[], budget: string): Table {
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
  const rows = series.map((s) => {
    const ev = s.epoch.map((e, k) => ({ e, i: s.i_auroc[k], p: s.p_auroc[k], r: s.ratio?.[k] ?? NaN })).filter((r) => Number.isFinite(r.p));
    const pe = peakEpoch(ev.map((r) => r.e), ev.map((r) => r.p));
    const none = { e: NaN, i: NaN, p: NaN, r: NaN };
    const peak = ev.find((r) => r.e === pe) ?? none;
    const last = ev[ev.length - 1] ?? none;
    const loss0 = s.loss[0];
    const lossN = s.loss[s.loss.length - 1];
    const ratios = ev.filter((r) => Number.isFinite(r.r));
    const top = ratios.reduce((b, r) => (r.r > b.r ? r : b), { ...none, r: -Infinity });
    const rat = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
    // a noisy curve's final point can sit low by chance: the evaluations of the last third of the epochs, mean ± sd
    const e0 = ev.length ? ev[0]!.e : 0, eN = last.e;
    const tail = ev.filter((r) => r.e > eN - (eN - e0) / 3 - 1e-9).map((r) => r.p);
    const m = tail.reduce((a, b) => a + b, 0) / (tail.length || NaN);
    const sd = tail.length > 1 ? Math.sqrt(tail.reduce((a, b) => a + (b - m) ** 2, 0) / (tail.length - 1)) : NaN;
    const tailCell = tail.length > 1 ? `${pct(m)} ± ${pct(sd)} (${tail.length})` : '-';
    return [s.method, lossN.toExponential(2), `${(loss0 / lossN).toFixed(1)}×`, `${pct(peak.p)} @${peak.e}`, pct(last.p), pct(last.p - peak.p), tailCell, pct(peak.i), pct(last.i), rat(peak.r), Number.isFinite(top.r) ? `${rat(top.r)} @${top.e}` : '-', rat(last.r)];
  });
  return {
    title: `Fig. 3 (identical shortcut): peak vs. final test AUROC, unified setting, budget ${budget}`,
    header: ['method', 'final loss', 'loss drop', 'peak P-AUROC @epoch', 'final P-AUROC', 'Δ final − peak', 'P-AUROC, last third (mean ± sd, evals)', 'I-AUROC at peak', 'final I-AUROC', 'ratio at peak', 'highest ratio @epoch', 'final ratio'],
    rows,
    notes: ['AUROC in %; loss drop = first-epoch loss / final loss; last third: the evaluations in the last third of the evaluated epochs (a drop is a trend, not one low final point); ratio = test shortcut ratio, the mean reconstruction error in the defect regions / on normal pixels (1 = anomalies copied as well as normal regions: the identical shortcut).'],
  };
}

export const fig3: ExperimentDef = {
  name: 'fig3',
  description: 'identical-shortcut curves (paper Fig. 3): per-epoch loss and I-/P-AUROC of MLP, CNN, Transformer and UniAD, unified setting',
  plan: (options) =>
    methodGrid({
      options,
      methods: gridMethods(options, FIG3_METHODS),
      settings: ['unified'],
      edit: (raw, method) => fig3Edit(raw, method, options.budget),
    }),
  render: async (options, results, outDir) => {
    const series = fig3Series(results);
    const lines = ['method,epoch,train_loss,i_auroc,p_auroc,shortcut_ratio'];
    for (const s of series) s.epoch.forEach((e, k) => lines.push([s.method, e, s.loss[k], s.i_auroc[k], s.p_auroc[k], s.ratio[k]].join(',')));
    writeFileAtomic(path.join(outDir, 'tables', 'fig3-curves.csv'), lines.join('\n') + '\n');
    const t = fig3Table(series, options.budget);
    writeTable(path.join(outDir, 'tables'), 'fig3', t);
    const png = await writeCurvesPicture(path.join(outDir, 'pictures', 'fig3'), results, `Identical shortcut (Fig. 3a): training loss and test AUROC per epoch, unified, budget ${options.budget}`);
    const notes: string[] = [];
    const maps = await writeFig3bPicture(path.join(outDir, 'pictures', 'fig3b'), results, `Identical shortcut (Fig. 3b): anomaly maps at each net's peak and final epoch, unified, budget ${options.budget}`, notes);
    return tableToText(t) + (png ? `\ncurves: ${png}\n` : '') + (maps ? `maps: ${maps}\n` : '') + notes.map((n) => `${n}\n`).join('');
  },
};
