// The ablation table (as `uniad experiment run ablation` writes it) from separately trained run folders, e.g. the
// variants of a profile run side by side as plain `uniad train` runs:
//   npx ts-node -T experiments/scripts/ablation-table.ts <out-dir> [--budget cpu] [--eval eval.key=value ...] full=<run-dir> no-jitter=<run-dir> ...
// Each run must be the full model's config with exactly its variant's change (checked; names and classes aside),
// so a table row is never a run of some other config. Writes <out-dir>/ablation.{md,csv} and ablation-per-class.md.
// --eval (repeatable): take every run's metrics from its re-evaluation with these eval.* overrides (the
// eval-last-<tag>.json that `uniad eval <run> <overrides>` wrote, of the last checkpoint) instead of results.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deepMerge, UserError, writeFileAtomic } from '@unified-ad/core';
import { configHash, type Budget, type CellResult } from '../src/grid/plan';
import { evalResultFile, overriddenEval } from '../src/commands/evaluate';
import { ablationTable, ablationVariants } from '../src/experiments/ablation';
import { readRunFolder } from '../src/run-folder';
import { tableToText, writeTable } from '../src/tables';

/** the parts of a resolved config that decide a run, apart from the model's config */
const rest = (cfg: Record<string, unknown>) => {
  const { name: _n, model, ...r } = cfg;
  const data = { ...(r.data as Record<string, unknown>) };
  delete data.classes;
  return { ...r, data, method: (model as { name?: string }).name };
};

function main(args: string[]): void {
  let budget: Budget = 'cpu';
  const b = args.indexOf('--budget');
  if (b >= 0) {
    budget = args[b + 1] as Budget;
    args = [...args.slice(0, b), ...args.slice(b + 2)];
  }
  const evalOverrides: string[] = [];
  for (let i = args.indexOf('--eval'); i >= 0; i = args.indexOf('--eval')) {
    if (!args[i + 1]?.startsWith('eval.')) throw new UserError(`--eval: expected an eval.key=value setting after it (got '${args[i + 1] ?? ''}')`);
    evalOverrides.push(args[i + 1]!);
    args = [...args.slice(0, i), ...args.slice(i + 2)];
  }
  const [out, ...pairs] = args;
  if (!out || !pairs.length) throw new UserError('usage: ablation-table.ts <out-dir> [--budget cpu] full=<run-dir> <variant>=<run-dir> ...');
  const variants = ablationVariants(budget);
  const runs = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`'${p}': expected <variant>=<run-dir>`);
    const name = p.slice(0, eq), dir = p.slice(eq + 1);
    const v = variants.find((x) => x.name === name);
    if (!v) throw new UserError(`'${name}': no such ablation variant at budget ${budget} (variants: ${variants.map((x) => x.name).join(', ')})`);
    const { cfg, result } = readRunFolder(dir);
    if (!result) throw new UserError(`${dir}: not finished (no results.json)`);
    if (evalOverrides.length) {
      const { eval: ev, tag } = overriddenEval((cfg as { eval: never }).eval, evalOverrides);
      const f = evalResultFile(dir, 'last', tag);
      if (!fs.existsSync(f)) throw new UserError(`${f}: no re-evaluation with ${evalOverrides.join(' ')} (run: npx uniad eval ${dir} ${evalOverrides.join(' ')})`);
      const re = JSON.parse(fs.readFileSync(f, 'utf8')) as { per_class: typeof result.per_class; mean: typeof result.mean };
      return { v, dir, cfg: { ...cfg, eval: ev }, result: { ...result, per_class: re.per_class, mean: re.mean } };
    }
    return { v, dir, cfg, result };
  });
  const full = runs.find((r) => r.v.name === 'full');
  if (!full) throw new UserError('ablation-table: give the full model\'s run as full=<run-dir>');
  const fullModel = (full.cfg.model as { config: Record<string, unknown> }).config;
  for (const r of runs) {
    const want = deepMerge(fullModel, r.v.change);
    const got = (r.cfg.model as { config: Record<string, unknown> }).config;
    if (configHash(want) !== configHash(got)) throw new UserError(`${r.dir}: its model.config is not the full model's with ${r.v.name}'s change ${JSON.stringify(r.v.change)}`);
    if (configHash(rest(r.cfg)) !== configHash(rest(full.cfg))) throw new UserError(`${r.dir}: its data, features, training or evaluation settings differ from the full model's run (${full.dir})`);
  }
  const results: CellResult[] = runs.map((r) => ({
    cell: { key: r.v.name, method: 'uniad', setting: 'unified', group: 'all', seed: r.result.seed ?? 0, variant: r.v.name, config: r.cfg as never },
    result: r.result,
    dir: r.dir,
  }));
  const t = ablationTable(results, budget, runs.map((r) => r.v.name));
  writeTable(out, 'ablation', t);
  // per class: I-AUROC / P-AUROC of every variant
  const classes = Object.keys(full.result.per_class);
  const ordered = variants.filter((v) => runs.some((r) => r.v.name === v.name)).map((v) => runs.find((r) => r.v.name === v.name)!);
  const pc = (r: (typeof runs)[number], c: string, k: string) => (100 * (r.result.per_class[c] as Record<string, number>)[k]!).toFixed(2);
  let md = `| variant | ${classes.map((c) => `${c} I / P`).join(' | ')} | run |\n|---|${classes.map(() => '---').join('|')}|---|\n`;
  for (const r of ordered) md += `| ${r.v.name} | ${classes.map((c) => `${pc(r, c, 'i_auroc')} / ${pc(r, c, 'p_auroc')}`).join(' | ')} | ${path.basename(r.dir)} |\n`;
  writeFileAtomic(path.join(out, 'ablation-per-class.md'), md);
  process.stdout.write(tableToText(t) + '\n' + md);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(e instanceof UserError ? `error: ${e.message}\n` : `${(e as Error).stack}\n`);
  process.exit(1);
}
