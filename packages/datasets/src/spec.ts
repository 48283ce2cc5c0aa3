// One entry point: a plain config object (e.g. from a YAML experiment file) -> a loaded Dataset.
import * as path from 'node:path';
import { z } from 'zod';
import { UserError, cacheDir, type Dataset } from '@unified-ad/core';
import type { LoadOptions } from './checks';
import { combineDatasets } from './combine';
import { loadMagneticTile } from './magnetic-tile';
import { loadManifest } from './manifest';
import { loadMvtec } from './mvtec';
import { loadSemantic } from './semantic';
import { ensureSynthetic, MAX_SHIFT, resolveSyntheticOptions, SYNTHETIC_CLASS_NAMES } from './synthetic/generate';
import { ANY_ORIENTATION } from './synthetic/classes';

const loadOpts = {
  onError: z.enum(['throw', 'skip']).optional(),
  check: z.enum(['none', 'header', 'decode']).optional(),
};

export const MvtecSpecSchema = z
  .object({
    type: z.literal('mvtec'),
    root: z.string().min(1),
    categories: z.array(z.string().min(1)).min(1).optional(),
    labelFrom: z.enum(['mask', 'folder']).optional(),
    ...loadOpts,
  })
  .strict();

export const MagneticTileSpecSchema = z
  .object({ type: z.literal('magnetic-tile'), root: z.string().min(1), className: z.string().min(1).optional(), ...loadOpts })
  .strict();

export const ManifestSpecSchema = z
  .object({ type: z.literal('manifest'), path: z.string().min(1), format: z.enum(['csv', 'jsonl']).optional(), name: z.string().min(1).optional(), ...loadOpts })
  .strict();

const semanticFields = {
  root: z.string().min(1),
  normalClasses: z.array(z.number().int().min(0).max(9)).min(1).max(9),
  maxTrainPerClass: z.number().int().positive().optional(),
  maxTestPerClass: z.number().int().positive().optional(),
  seed: z.number().int().min(0).optional(),
};
export const Cifar10SpecSchema = z.object({ type: z.literal('cifar10'), ...semanticFields }).strict();
export const MnistSpecSchema = z.object({ type: z.literal('mnist'), ...semanticFields }).strict();
export const FashionMnistSpecSchema = z.object({ type: z.literal('fashion-mnist'), ...semanticFields }).strict();

export const SyntheticSpecSchema = z
  .object({
    type: z.literal('synthetic'),
    /** where the images are written (default: the user cache, one folder per option set) */
    root: z.string().min(1).optional(),
    classes: z.array(z.enum(SYNTHETIC_CLASS_NAMES as [string, ...string[]])).min(1).optional(),
    trainPerClass: z.number().int().positive().optional(),
    testGoodPerClass: z.number().int().min(0).optional(),
    testDefectPerClass: z.number().int().min(0).optional(),
    size: z.number().int().min(32).max(2048).optional(),
    seed: z.number().int().min(0).optional(),
    /** objects (disk, screw): largest rotation in degrees (default 180: any orientation) */
    maxRotation: z.number().min(0).max(ANY_ORIENTATION).optional(),
    /** objects: largest centre offset, a fraction of the image side (default: the class's own, 0.04 / 0.06) */
    maxShift: z.number().min(0).max(MAX_SHIFT).nullable().optional(),
  })
  .strict();

export const SingleDatasetSpecSchema = z.discriminatedUnion('type', [
  MvtecSpecSchema,
  MagneticTileSpecSchema,
  ManifestSpecSchema,
  Cifar10SpecSchema,
  MnistSpecSchema,
  FashionMnistSpecSchema,
  SyntheticSpecSchema,
]);

export const CombinedSpecSchema = z
  .object({ type: z.literal('combined'), parts: z.array(SingleDatasetSpecSchema).min(1), name: z.string().min(1).optional() })
  .strict();

/** Zod schema of a dataset config: one of the single kinds, or `{type:'combined', parts:[...]}`. */
export const DatasetSpecSchema = z.discriminatedUnion('type', [
  MvtecSpecSchema,
  MagneticTileSpecSchema,
  ManifestSpecSchema,
  Cifar10SpecSchema,
  MnistSpecSchema,
  FashionMnistSpecSchema,
  SyntheticSpecSchema,
  CombinedSpecSchema,
]);

export type SingleDatasetSpec = z.infer<typeof SingleDatasetSpecSchema>;
export type CombinedSpec = z.infer<typeof CombinedSpecSchema>;
export type DatasetSpec = z.infer<typeof DatasetSpecSchema>;

export interface LoadDatasetOptions {
  /** folder that relative paths in the spec are resolved against (default: the current directory) */
  baseDir?: string;
  warn?: (message: string) => void;
}

/** Validates a dataset config; a bad one gives a one-line UserError naming the key. */
export function parseDatasetSpec(spec: unknown): DatasetSpec {
  const r = DatasetSpecSchema.safeParse(spec);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : '(root)';
  throw new UserError(`dataset spec: ${where}: ${issue.message}`);
}

function synthDefaultRoot(spec: z.infer<typeof SyntheticSpecSchema>): string {
  const o = resolveSyntheticOptions(spec);
  const tag = `${o.classes.join('-')}_n${o.trainPerClass}-${o.testGoodPerClass}-${o.testDefectPerClass}_s${o.size}_seed${o.seed}${o.maxRotation === ANY_ORIENTATION ? '' : `_rot${o.maxRotation}`}${o.maxShift === null ? '' : `_shift${o.maxShift}`}`;
  return cacheDir('synthetic', tag);
}

async function loadSingle(spec: SingleDatasetSpec, o: LoadDatasetOptions): Promise<Dataset> {
  const base = o.baseDir ?? process.cwd();
  const abs = (p: string) => path.resolve(base, p);
  const lo = (s: { onError?: 'throw' | 'skip'; check?: 'none' | 'header' | 'decode' }): LoadOptions => ({
    onError: s.onError,
    check: s.check,
    warn: o.warn,
  });
  switch (spec.type) {
    case 'mvtec':
      return loadMvtec(abs(spec.root), { categories: spec.categories, labelFrom: spec.labelFrom, ...lo(spec) });
    case 'magnetic-tile':
      return loadMagneticTile(abs(spec.root), { className: spec.className, ...lo(spec) });
    case 'manifest':
      return loadManifest(abs(spec.path), { format: spec.format, name: spec.name, ...lo(spec) });
    case 'cifar10':
    case 'mnist':
    case 'fashion-mnist':
      return loadSemantic(spec.type, abs(spec.root), spec);
    case 'synthetic': {
      const root = spec.root ? abs(spec.root) : synthDefaultRoot(spec);
      const { type: _t, root: _r, ...opts } = spec;
      const info = await ensureSynthetic(root, opts);
      return loadMvtec(info.root, { categories: info.options.classes, name: 'synthetic', warn: o.warn });
    }
  }
}

/**
 * Builds a dataset from a config, e.g. {type:'mvtec', root, categories:['bottle']},
 * {type:'magnetic-tile', root}, {type:'manifest', path}, {type:'cifar10', root, normalClasses:[0,1,2,3,4]},
 * {type:'synthetic'}, or {type:'combined', parts:[...]}.
 */
export async function loadDataset(spec: unknown, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const s = parseDatasetSpec(spec);
  if (s.type === 'combined') {
    const parts: Dataset[] = [];
    for (const p of s.parts) parts.push(await loadSingle(p, opts));
    return combineDatasets(parts, s.name);
  }
  return loadSingle(s, opts);
}
