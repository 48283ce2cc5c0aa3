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
}

export const FIG3_METHODS = ['mlp', 'cnn', 'transformer', 'uniad'];
const EVAL_EVERY = { smoke: 1, cpu: 2, paper: 10 } as const;
/** anomalous test images whose maps every periodic evaluation keeps, for Fig. 3b (eval.keepMaps) */
export const FIG3B_IMAGES = 4;

/** Per-method, per-epoch series (the first seed's run; with several seeds, the mean over seeds). */
export function fig3Series(results: CellResult[]): CurveSeries[] {
  const out: CurveSeries[] = [];
  const methods = [...new Set(results.map((r) => r.cell.method))];
  for (const m of methods) {
    const runs = results.filter((r) => r.cell.method === m);
    const byEpoch = new Map<number, { loss: number[]; i: number[]; p: number[] }>();
    for (const r of runs)
      for (const h of r.result.groups[0]?.history ?? []) {
        const e = byEpoch.get(h.epoch) ?? { loss: [], i: [], p: [] };
        e.loss.push(h.train_loss);
        const ev = h.eval as { mean?: Record<string, number> } | undefined;
        if (ev?.mean) {
          e.i.push(ev.mean.i_auroc);
          e.p.push(ev.mean.p_auroc);
        }
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
    });
  }
  return out;
}

/** Peak vs. final performance per method: the drop after the peak is the identical shortcut's signature. */
export function fig3Table(series: CurveSeries[], budget: string): Table {
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
  const rows = series.map((s) => {
    const ev = s.epoch.map((e, k) => ({ e, i: s.i_auroc[k], p: s.p_auroc[k] })).filter((r) => Number.isFinite(r.p));
    const pe = peakEpoch(ev.map((r) => r.e), ev.map((r) => r.p));
    const peak = ev.find((r) => r.e === pe) ?? { e: NaN, i: NaN, p: NaN };
    const last = ev[ev.length - 1] ?? { e: NaN, i: NaN, p: NaN };
    const loss0 = s.loss[0];
    const lossN = s.loss[s.loss.length - 1];
    return [s.method, lossN.toExponential(2), `${(loss0 / lossN).toFixed(1)}×`, `${pct(peak.p)} @${peak.e}`, pct(last.p), pct(last.p - peak.p), pct(peak.i), pct(last.i)];
  });
  return {
    title: `Fig. 3 (identical shortcut): peak vs. final test AUROC, unified setting, budget ${budget}`,
    header: ['method', 'final loss', 'loss drop', 'peak P-AUROC @epoch', 'final P-AUROC', 'Δ final − peak', 'I-AUROC at peak', 'final I-AUROC'],
    rows,
    notes: ['AUROC in %; loss drop = first-epoch loss / final loss.'],
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
      edit: (raw) => ({ ...raw, train: { ...(raw.train as object), evalEvery: EVAL_EVERY[options.budget] }, eval: { ...(raw.eval as object), periodicMetrics: ['i_auroc', 'p_auroc'], keepMaps: FIG3B_IMAGES } }),
    }),
  render: async (options, results, outDir) => {
    const series = fig3Series(results);
    const lines = ['method,epoch,train_loss,i_auroc,p_auroc'];
    for (const s of series) s.epoch.forEach((e, k) => lines.push([s.method, e, s.loss[k], s.i_auroc[k], s.p_auroc[k]].join(',')));
    writeFileAtomic(path.join(outDir, 'tables', 'fig3-curves.csv'), lines.join('\n') + '\n');
    const t = fig3Table(series, options.budget);
    writeTable(path.join(outDir, 'tables'), 'fig3', t);
    const png = await writeCurvesPicture(path.join(outDir, 'pictures', 'fig3'), results, `Identical shortcut (Fig. 3a): training loss and test AUROC per epoch, unified, budget ${options.budget}`);
    const notes: string[] = [];
    const maps = await writeFig3bPicture(path.join(outDir, 'pictures', 'fig3b'), results, `Identical shortcut (Fig. 3b): anomaly maps at each net's peak and final epoch, unified, budget ${options.budget}`, notes);
    return tableToText(t) + (png ? `\ncurves: ${png}\n` : '') + (maps ? `maps: ${maps}\n` : '') + notes.map((n) => `${n}\n`).join('');
  },
};
