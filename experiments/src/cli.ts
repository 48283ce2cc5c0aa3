// The `uniad` command line (commander). Errors: a UserError prints one line "error: <message>" and exits 1;
// anything else prints its stack trace and exits 1.
import './models';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { UserError, sharedPath } from '@unified-ad/core';
import { loadRunConfig } from './config-files';
import { EXPERIMENTS, getExperiment } from './experiments';
import { BUDGETS, type Budget, type PlanOptions } from './grid/plan';
import { mergeGrids, runGrid } from './grid/runner';
import { parseShard } from './grid/shard';
import { trainRun } from './run-folder';
import { collectInfo, formatInfo } from './commands/info';
import { evaluateRun } from './commands/evaluate';
import { predictImages } from './commands/predict';
import { precomputeFeatures } from './commands/features';
import { metricsTable } from './artifacts';
import { tableToText } from './tables';
import { writeReport } from './report';
import { displayPath } from './paths';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n');

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const settingsList = (v: string): ('unified' | 'separate')[] => {
  const s = list(v);
  for (const x of s) if (x !== 'unified' && x !== 'separate') throw new UserError(`--settings: '${x}' is not a setting (unified, separate)`);
  return s as ('unified' | 'separate')[];
};

/** Default folder of an experiment's outputs (table1 and table2 share one, since they are the same grid). */
export function defaultExperimentDir(name: string, budget: Budget, shard?: { index: number; count: number } | null): string {
  const base = name === 'table1' || name === 'table2' ? 'tables' : name;
  return path.resolve('runs', 'experiments', `${base}-${budget}${shard && shard.count > 1 ? `-shard${shard.index}of${shard.count}` : ''}`);
}

const CONFIG_HELP = `
The config is a YAML file (or the name of a shipped one in experiments/configs, e.g. uniad-cpu); it may
"extends: other.yaml". Overrides are key=value pairs with YAML values, e.g.
  uniad train --config uniad-smoke train.epochs=5 model.config.hiddenDim=64 classes=[fabric]
Keys: name, seed, setting (unified|separate), data ({type: mvtec|magnetic-tile|manifest|cifar10|mnist|
fashion-mnist|synthetic|combined, ...}), classes, backbone {id, path, inputSize}, features {layers, size,
batchSize}, model {name, config}, train {epochs, batchSize, lr, ...}, eval {resolution, blurSigma, imageScore,
metrics, ...}. \${shared} in a path means ../shared (or $UNIFIED_AD_SHARED).`;

export function buildProgram(): Command {
  const program = new Command('uniad')
    .description('Unified multi-class anomaly detection (UniAD, NeurIPS 2022) and baselines on native TensorFlow')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('info')
    .description('engine, versions, threads, registered methods and backbones, and a quick matmul GFLOP/s')
    .option('--no-bench', 'skip the GFLOP/s measurement')
    .option('--json', 'print JSON')
    .action((o: { bench: boolean; json?: boolean }) => {
      const r = collectInfo(o.bench);
      out(o.json ? JSON.stringify(r, null, 2) : formatInfo(r));
    });

  program
    .command('train')
    .description('train (or fit) one method and evaluate it; writes a self-describing run folder')
    .requiredOption('-c, --config <file>', 'run config (YAML path or shipped config name)')
    .argument('[overrides...]', 'key=value config overrides')
    .option('-o, --out <dir>', 'run folder (default runs/<config name>)')
    .option('--resume', 'continue the run in --out from its last checkpoint (same config)')
    .addHelpText('after', CONFIG_HELP)
    .action(async (overrides: string[], o: { config: string; out?: string; resume?: boolean }) => {
      const cfg = loadRunConfig(o.config, overrides);
      const dir = path.resolve(o.out ?? path.join('runs', cfg.name));
      if (!o.resume && fs.existsSync(path.join(dir, 'config.yaml'))) {
        const done = fs.existsSync(path.join(dir, 'results.json'));
        throw new UserError(`${dir} already holds a${done ? ' finished' : 'n unfinished'} run; ${done ? 'choose a new folder with --out <dir>' : 'pass --resume to continue it, or --out <dir> for a new one'}`);
      }
      const result = await trainRun(cfg, { outDir: dir, resume: o.resume, log: err });
      out(tableToText(metricsTable(result, `${result.method} (${result.setting}), ${result.models} model(s), ${result.parameters_total.toLocaleString('en-US')} parameters, ${result.seconds.toFixed(1)} s`)));
      out(`run folder: ${displayPath(dir)}\nreport:     uniad report ${displayPath(dir)}`);
    });

  program
    .command('eval')
    .description("re-evaluate a trained run from its last (or best) checkpoint on the run's test set")
    .argument('<run-dir>', 'a run folder written by uniad train')
    .argument('[overrides...]', "eval.key=value settings instead of the run's, e.g. 'eval.imageScore={kind: max}' eval.blurSigma=4 (result in its own eval-<checkpoint>-<tag>.json)")
    .addOption(new Option('--checkpoint <which>', "last: the final model (the one results.json reports); best: the epoch with the best train.bestKey").choices(['best', 'last']).default('last'))
    .option('--metrics <list>', 'comma-separated metrics (i_auroc,i_ap,i_f1max,p_auroc,p_ap,p_f1max,aupro,mad); default: the run\'s', list)
    .action(async (runDir: string, overrides: string[], o: { checkpoint: 'best' | 'last'; metrics?: string[] }) => {
      const r = await evaluateRun(path.resolve(runDir), { checkpoint: o.checkpoint, metrics: o.metrics, overrides, log: err });
      out(tableToText(metricsTable(r, `Re-evaluation (${o.checkpoint} checkpoint)`)));
      out(`written: ${r.file}`);
    });

  program
    .command('predict')
    .description('anomaly score, decision and heat-map PNG for new images with a trained run')
    .argument('<images...>', 'image files (png, jpg, bmp, tif, webp)')
    .requiredOption('-r, --run <run-dir>', 'a run folder written by uniad train')
    .option('-t, --threshold <score>', "decision threshold on the image score (default: the run's F1-max threshold in thresholds.json)", number)
    .option('--class <name>', "the image's class: separate runs use that class's model; unified runs use the one model with that class's F1-max threshold")
    .option('-o, --out <dir>', 'where heat maps and predictions.csv go (default <run-dir>/predictions)')
    .addOption(new Option('--checkpoint <which>', "last: the final model (its F1-max threshold is in thresholds.json); best: the epoch with the best train.bestKey").choices(['best', 'last']).default('last'))
    .action(async (images: string[], o: { run: string; threshold?: number; class?: string; out?: string; checkpoint: 'best' | 'last' }) => {
      const { table } = await predictImages(images, { run: o.run, threshold: o.threshold, className: o.class, out: o.out, checkpoint: o.checkpoint, log: err });
      out(tableToText(table));
    });

  program
    .command('features')
    .description('pre-extract the backbone features of a config\'s train and test images into the cache')
    .requiredOption('-c, --config <file>', 'run config (YAML path or shipped config name)')
    .argument('[overrides...]', 'key=value config overrides')
    .addHelpText('after', CONFIG_HELP)
    .action(async (overrides: string[], o: { config: string }) => {
      const cfg = loadRunConfig(o.config, overrides);
      const r = await precomputeFeatures(cfg);
      out(`features ${r.spec.backbone} [${r.spec.layers.join(', ')}] @${r.spec.size}×${r.spec.size} from ${r.spec.inputSize}×${r.spec.inputSize}: ${r.images} images → [${r.shape.join(', ')}]; ${r.cacheHits} from the cache, ${r.computed} computed, ${r.seconds.toFixed(1)} s`);
    });

  const experiment = program.command('experiment').description('run the paper\'s experiments as grids of independent runs (shardable), and merge shards');
  const names = EXPERIMENTS.map((e) => e.name);
  experiment
    .command('list')
    .description('list the experiments')
    .action(() => {
      out(EXPERIMENTS.map((e) => `${e.name.padEnd(15)} ${e.description}`).join('\n'));
    });
  experiment
    .command('run')
    .description('run an experiment (or one shard of it) and write its tables and pictures')
    .addArgument(new Argument('<name>', 'experiment').choices(names))
    .addOption(new Option('-b, --budget <budget>', 'smoke: CI-sized, synthetic data, seconds; cpu: the shared real data, laptop-sized; paper: the paper\'s protocol').choices(BUDGETS).default('smoke'))
    .option('-s, --seeds <n>', 'seeds per run (tables show mean ± std)', positiveInt, 1)
    .option('--shard <i/n>', 'run only shard i of n (0-based; e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT), then merge')
    .option('-o, --out <dir>', 'output folder (default runs/experiments/<name>-<budget>[-shard<i>of<n>])')
    .option('--root <dir>', 'dataset root: MVTec AD (table1/table2), CIFAR-10 or MNIST-format folder (semantic)')
    .option('--dataset <kind>', 'semantic: cifar10 | mnist | fashion-mnist (default: detected from --root)')
    .option('--methods <list>', 'comma-separated methods (default: every registered method, or the experiment\'s)', list)
    .option('--classes <list>', 'comma-separated classes (default: all of the dataset)', list)
    .option('--settings <list>', 'comma-separated settings: unified, separate (default: the experiment\'s)', settingsList)
    .option('--set <key=value...>', 'config overrides applied to every run, e.g. --set train.epochs=5')
    .option('--variants <list>', 'ablation: comma-separated variants to run (the full model is always run), e.g. no-layerwise-query,no-neighbor-mask,no-jitter', list)
    .option('-j, --jobs <n>', 'runs at once, each in its own process (TF threads split between them)', positiveInt, 1)
    .option('--cells <keys>', 'run only these cells (comma-separated keys, as in <out>/cells/), without the tables', list)
    .addHelpText('after', `\nExperiments:\n${EXPERIMENTS.map((e) => `  ${e.name.padEnd(15)} ${e.description}`).join('\n')}\n\nA finished run whose config is unchanged is reused, so rerunning continues an interrupted experiment.`)
    .action(async (name: string, o: { budget: Budget; seeds: number; shard?: string; out?: string; root?: string; dataset?: string; methods?: string[]; classes?: string[]; settings?: ('unified' | 'separate')[]; set?: string[]; variants?: string[]; jobs: number; cells?: string[] }) => {
      const shard = o.shard ? parseShard(o.shard) : null;
      const options: PlanOptions = { budget: o.budget, seeds: o.seeds };
      if (o.root) options.root = path.resolve(o.root);
      if (o.dataset) options.dataset = o.dataset;
      if (o.methods) options.methods = o.methods;
      if (o.classes) options.classes = o.classes;
      if (o.settings) options.settings = o.settings;
      if (o.set) options.overrides = o.set;
      if (o.variants) options.variants = o.variants;
      const dir = path.resolve(o.out ?? defaultExperimentDir(name, o.budget, shard));
      if (o.cells && (shard || o.jobs > 1)) throw new UserError('experiment run: --cells cannot be combined with --shard or --jobs');
      const r = await runGrid(getExperiment(name), options, { outDir: dir, shard, cells: o.cells ?? null, jobs: o.jobs, log: err });
      if (r.summary) {
        out(r.summary);
        out(`outputs: ${displayPath(dir)}  (uniad report ${displayPath(dir)})`);
      } else out(o.cells ? `cells done: ${o.cells.join(', ')} in ${dir}` : `shard outputs: ${dir}`);
    });
  experiment
    .command('merge')
    .description('combine the outputs of an experiment\'s shards into one folder with the same tables as an unsharded run')
    .argument('<dirs...>', 'shard output folders')
    .requiredOption('-o, --out <dir>', 'merged output folder')
    .action(async (dirs: string[], o: { out: string }) => {
      out(await mergeGrids(dirs, o.out, getExperiment, err));
      out(`outputs: ${path.resolve(o.out)}`);
    });

  program
    .command('report')
    .description('write one static HTML page (tables, curves, anomaly maps, config, environment) for a run or experiment folder')
    .argument('<dir>', 'run folder or experiment folder')
    .option('-o, --out <file>', 'HTML file (default <dir>/report.html)')
    .option('--link', 'link the pictures instead of embedding them')
    .action((dir: string, o: { out?: string; link?: boolean }) => {
      out(`report: ${writeReport(dir, { out: o.out, link: o.link })}`);
    });

  program
    .command('demo')
    .description('end to end in minutes, offline: synthetic data → features → UniAD and PatchCore → table, pictures, report')
    .option('-o, --out <dir>', 'output folder', path.join('runs', 'demo'))
    .action(async (o: { out: string }) => {
      const dir = path.resolve(o.out);
      // UniAD's small demo step keeps about one core busy: PatchCore runs beside it
      const r = await runGrid(getExperiment('demo'), { budget: 'smoke', seeds: 1 }, { outDir: dir, log: err, jobs: Math.min(2, os.cpus().length) });
      out(r.summary ?? '');
      const report = writeReport(dir);
      out(`outputs: ${dir}\nreport:  ${report}`);
      out(nextSteps(!!sharedPath('data'), !!sharedPath('weights')));
    });

  return program;
}

/** What to run after the demo, depending on what this machine has. */
export function nextSteps(sharedData: boolean, sharedWeights: boolean): string {
  const lines = ['Next:'];
  if (sharedData) lines.push('  real data found (../shared): npx uniad experiment run real-benchmark --budget cpu');
  else lines.push('  real data: put MVTec AD bottle + Magnetic Tile under ../shared/data (or set UNIFIED_AD_SHARED), then', '    npx uniad experiment run real-benchmark --budget cpu');
  lines.push(
    '  full MVTec AD on disk: npx uniad experiment run table1 --budget paper --root <mvtec-ad folder>',
    "  your own images (MVTec layout): npx uniad train --config uniad-cpu 'data={type: mvtec, root: <folder>}'",
    `  ${sharedWeights ? 'other' : 'your own'} MobileNetV2 weights: add backbone.path=<file.tflite> to any of these`,
  );
  return lines.join('\n');
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof UserError || (e as Error)?.name === 'UserError') {
      const code = (e as { exitCode?: number }).exitCode;
      err(code === 130 ? `interrupted: ${(e as Error).message}` : `error: ${(e as Error).message}`);
      return code ?? 1;
    }
    err(`${(e as Error)?.stack ?? e}`);
    return 1;
  }
}

if (require.main === module) main(process.argv).then((c) => process.exit(c));
