// `uniad eval <run-dir>`: re-evaluates a finished run from its best (or last) checkpoint on the run's test set,
// with the run's evaluation settings (or --metrics, or eval.* overrides), and writes eval-<checkpoint>[-<tag>].json
// and tables/.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';
import { applyOverrides, UserError, validateConfig, writeFileAtomic } from '@unified-ad/core';
import type { MetricValues } from '@unified-ad/eval';
import { canonicalJson, disposeInputs, EvalConfigSchema, loadInputs, loadRunData, predictAll, resolveFeatureSpec, selectRows, TestSet, type EvalConfig, type RunResult } from '@unified-ad/engine';
import { restoreRun } from '@unified-ad/engine';
import { writeRunTables } from '../artifacts';
import { tensorFitData } from '@unified-ad/core';

export interface EvalCommandOptions {
  checkpoint: 'best' | 'last';
  metrics?: string[];
  /** `eval.key=value` overrides (image-score rule, blur, resolution, ...); the result gets its own file */
  overrides?: string[];
  log?: (l: string) => void;
}

/**
 * The run's eval section with `eval.*` overrides applied and validated, and a tag naming the result files
 * ('' without overrides; else 8 hex digits of the overridden section, so other settings never overwrite a result).
 */
export function overriddenEval(base: EvalConfig, overrides: string[] = []): { eval: EvalConfig; tag: string } {
  if (overrides.length === 0) return { eval: base, tag: '' };
  for (const o of overrides) {
    const key = o.slice(0, Math.max(0, o.indexOf('='))).trim();
    if (!key.startsWith('eval.')) throw new UserError(`uniad eval: only eval.* settings can be overridden (got '${o}')`);
  }
  const raw = applyOverrides({ eval: structuredClone(base) }, overrides);
  const ev = validateConfig(z.object({ eval: EvalConfigSchema }).strict(), raw, 'uniad eval').eval;
  return { eval: ev, tag: '-' + createHash('sha256').update(canonicalJson(ev)).digest('hex').slice(0, 8) };
}

/** The file a re-evaluation writes into its run folder (and that readers of it, e.g. ablation-table.ts, open). */
export function evalResultFile(runDir: string, checkpoint: 'best' | 'last', tag: string): string {
  return path.join(runDir, `eval-${checkpoint}${tag}.json`);
}

export async function evaluateRun(runDir: string, opts: EvalCommandOptions): Promise<{ per_class: Record<string, MetricValues>; mean: MetricValues; file: string }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  log(`evaluating ${runDir} (${opts.checkpoint} checkpoint)`);
  const run = await restoreRun(runDir, opts.checkpoint, log);
  try {
    const { eval: evalCfg, tag } = overriddenEval(run.cfg.eval, opts.overrides);
    const cfg = { ...run.cfg, eval: evalCfg };
    const metrics = (opts.metrics ?? cfg.eval.metrics) as never;
    const { dataset, testSamples } = await loadRunData(cfg);
    const spec = await resolveFeatureSpec(cfg);
    const inputs = await loadInputs(cfg, dataset, testSamples, spec);
    const per_class: Record<string, MetricValues> = {};
    try {
      for (const g of run.groups) {
        const inGroup = new Set(g.classes);
        const idx = testSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
        const x = selectRows(inputs, idx);
        try {
          const test = await TestSet.load(dataset, idx.map((i) => testSamples[i]), cfg.eval.resolution);
          const ev = test.evaluate(predictAll(g.model, tensorFitData(idx.map((i) => testSamples[i]), x), cfg.eval), cfg.eval, metrics);
          Object.assign(per_class, ev.per_class);
        } finally {
          disposeInputs(x);
        }
      }
    } finally {
      disposeInputs(inputs);
    }
    const mean: Record<string, number> = {};
    for (const k of new Set(Object.values(per_class).flatMap((m) => Object.keys(m)))) {
      const v = Object.values(per_class).map((m) => (m as Record<string, number>)[k]).filter((x) => Number.isFinite(x));
      mean[k] = v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    }
    const file = evalResultFile(runDir, opts.checkpoint, tag);
    const settings = tag ? { overrides: opts.overrides, eval: cfg.eval } : {};
    writeFileAtomic(file, JSON.stringify({ checkpoint: opts.checkpoint, ...settings, sources: run.groups.map((g) => ({ group: g.group, source: g.source })), per_class, mean, evaluated: new Date().toISOString() }, null, 2));
    await writeRunTables(runDir, { per_class, mean } as unknown as RunResult, `metrics-${opts.checkpoint}${tag}`);
    return { per_class, mean: mean as MetricValues, file };
  } finally {
    run.dispose();
  }
}
