// Rebuilds the fitted models of a finished run folder from their saved state: `state.ckpt` (every method, the
// model at the end of fit) or a training checkpoint (`--checkpoint best|last` of gradient methods). Nothing is
// refitted, except a statistical model of a run folder written before states were saved (said in the log).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { Rng, UserError, createModel, getModelEntry, loadCheckpoint, tensorFitData, type Method } from '@unified-ad/core';
import { loadRunData, STATE_FILE } from './run';
import type { RunConfig } from './run-config';
import { toRunConfig } from './config';
import { loadInputs, methodBackbone, resolveFeatureSpec, resolveInputs, disposeInputs, selectRows } from './inputs';

export interface RestoredGroup {
  group: string;
  classes: string[];
  model: Method;
  /** file the state came from, or 'refit' */
  source: string;
}

export interface RestoredRun {
  cfg: RunConfig;
  groups: RestoredGroup[];
  dispose(): void;
}

/** Which saved model: the final state (default), or a training checkpoint of a gradient method. */
export type CheckpointChoice = 'final' | 'best' | 'last';

const rel = (f: string) => path.relative(process.cwd(), f) || f;

/** The file holding a group's model, or null when only a refit can rebuild it (older statistical runs). */
export function checkpointFile(runDir: string, cfg: RunConfig, group: string, which: CheckpointChoice): string | null {
  const dir = cfg.setting === 'unified' ? runDir : path.join(runDir, 'separate', group);
  const ck = (w: string) => path.join(dir, 'checkpoints', `${w}.ckpt`);
  if (which === 'best') {
    if (fs.existsSync(ck('best'))) return ck('best');
    throw new UserError(`${rel(runDir)}: no ${rel(ck('best'))} (the run kept no best checkpoint: it had no periodic evaluation, or is not a gradient method); use --checkpoint last or final`);
  }
  if (which === 'last') {
    if (fs.existsSync(ck('last'))) return ck('last');
    if (fs.existsSync(path.join(dir, STATE_FILE))) return path.join(dir, STATE_FILE);
    throw new UserError(`${rel(runDir)}: no ${rel(ck('last'))} (did the run finish?)`);
  }
  if (fs.existsSync(path.join(dir, STATE_FILE))) return path.join(dir, STATE_FILE);
  if (fs.existsSync(ck('last'))) return ck('last');
  return null;
}

/** The validated config of a run folder (one-line errors for a missing or malformed config.yaml). */
export function readRunConfig(runDir: string): RunConfig {
  const file = path.join(runDir, 'config.yaml');
  if (!fs.existsSync(file)) throw new UserError(`${rel(runDir)}: not a run folder (no config.yaml)`);
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${rel(file)}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${rel(file)}: expected a mapping of run settings`);
  return toRunConfig(raw as Record<string, unknown>, file);
}

export async function restoreRun(runDir: string, which: CheckpointChoice = 'final', log: (l: string) => void = () => {}): Promise<RestoredRun> {
  const cfg = readRunConfig(runDir);
  const entry = getModelEntry(cfg.model.name);
  const { dataset, trainSamples, classes } = await loadRunData(cfg);
  const spec = await resolveFeatureSpec(cfg);
  const imageSize = resolveInputs(cfg).images?.size ?? 0;
  const groups = cfg.setting === 'unified' ? [{ name: 'all', classes }] : classes.map((c) => ({ name: c, classes: [c] }));
  const out: RestoredGroup[] = [];
  // the models need only the feature shape: one training sample (a cache hit after training); a refit needs all
  const files = groups.map((g) => checkpointFile(runDir, cfg, g.name, which));
  const needAll = files.some((f) => f === null);
  const probe = await loadInputs(cfg, dataset, needAll ? trainSamples : trainSamples.slice(0, 1), spec);
  // a method that runs the backbone itself needs it at predict time too: it lives as long as the models
  const backbone = await methodBackbone(cfg);
  try {
    const [, grid, , channels] = probe.features?.shape ?? [0, 0, 0, 0];
    for (const [k, g] of groups.entries()) {
      const model = createModel(entry.name, cfg.model.config, { inChannels: channels, gridSize: grid, imageSize, rng: new Rng(cfg.seed), ...(backbone ? { backbone } : {}) });
      const file = files[k];
      try {
        if (file) {
          model.loadState(loadCheckpoint(file), rel(file));
          log(`  [${g.name}] state from ${rel(file)}`);
        } else {
          const inGroup = new Set(g.classes);
          const idx = trainSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
          const rows = selectRows(probe, idx);
          try {
            await model.fit(tensorFitData(idx.map((i) => trainSamples[i]), rows), {
              train: { ...cfg.train, seed: cfg.seed }, seed: cfg.seed, label: `${entry.name}/${g.name}`, log,
            });
          } finally {
            disposeInputs(rows);
          }
          log(`  [${g.name}] no saved state (run folder from an older version): refitted on the training data`);
        }
      } catch (e) {
        model.dispose();
        throw e;
      }
      out.push({ group: g.name, classes: g.classes, model, source: file ?? 'refit' });
    }
  } catch (e) {
    backbone?.dispose();
    throw e;
  } finally {
    disposeInputs(probe);
  }
  return {
    cfg, groups: out,
    dispose: () => {
      out.forEach((g) => g.model.dispose());
      backbone?.dispose();
    },
  };
}
