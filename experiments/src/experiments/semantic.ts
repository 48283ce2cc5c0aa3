// `semantic`: the paper's semantic anomaly detection protocol on CIFAR-10 (Sec. 4.3): a set of classes is
// "normal" ({0,1,2,3,4}, {5,6,7,8,9}, {0,2,4,6,8}, {1,3,5,7,9}); one unified model learns all of them; every test
// image of another class is an anomaly. Image score = mean of the anomaly map; metric: image AUROC. Works for any
// dataset in the CIFAR-10 binary or MNIST IDX format (--root; --dataset mnist|fashion-mnist for IDX).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@unified-ad/core';
import { PAPER_NORMAL_SETS } from '@unified-ad/datasets';
import type { Budget, Cell, CellResult, ExperimentDef, PlanOptions } from '../grid/plan';
import { fmtStat, stat } from '../grid/stats';
import { tableToText, writeTable, type Table } from '../tables';
import { gridMethods, methodGrid } from './common';

/** Per budget: images per source class kept for training / testing (undefined = all). */
const SUBSET: Record<Budget, { train?: number; test?: number }> = {
  smoke: { train: 8, test: 4 },
  cpu: { train: 300, test: 100 },
  paper: {},
};

export function detectSemanticFormat(root: string, given?: string): 'cifar10' | 'mnist' | 'fashion-mnist' {
  if (given) {
    if (!['cifar10', 'mnist', 'fashion-mnist'].includes(given)) throw new UserError(`--dataset '${given}': expected cifar10, mnist or fashion-mnist`);
    return given as 'cifar10';
  }
  if (!fs.existsSync(root)) throw new UserError(`--root ${root}: folder not found`);
  const names = fs.readdirSync(root);
  if (names.includes('test_batch.bin') || names.includes('cifar-10-batches-bin')) return 'cifar10';
  // MNIST and Fashion-MNIST ship the same IDX file names: a folder (or parent) named *fashion* is Fashion-MNIST
  if (names.some((n) => n.startsWith('t10k-images'))) return /fashion/i.test(path.resolve(root)) ? 'fashion-mnist' : 'mnist';
  throw new UserError(`--root ${root}: neither CIFAR-10 binary batches (test_batch.bin) nor IDX files (t10k-images-idx3-ubyte) found`);
}

const setName = (s: number[]) => s.join('');

async function planSemantic(options: PlanOptions): Promise<Cell[]> {
  if (!options.root) throw new UserError('semantic: --root <folder with CIFAR-10 binary batches or MNIST IDX files> is required');
  const root = path.resolve(options.root);
  const type = detectSemanticFormat(root, options.dataset);
  const sub = SUBSET[options.budget];
  const cells: Cell[] = [];
  for (const normal of PAPER_NORMAL_SETS) {
    cells.push(
      ...(await methodGrid({
        options: { ...options, classes: undefined },
        methods: gridMethods(options),
        settings: ['unified'],
        variant: `normal-${setName(normal)}`,
        edit: (raw) => ({
          ...raw,
          data: { type, root, normalClasses: normal, ...(sub.train ? { maxTrainPerClass: sub.train } : {}), ...(sub.test ? { maxTestPerClass: sub.test } : {}), seed: 0 },
          eval: { ...(raw.eval as object), imageScore: { kind: 'mean' }, metrics: ['i_auroc', 'i_ap'], periodicMetrics: ['i_auroc'] },
          train: { ...(raw.train as object), bestKey: 'mean.i_auroc' },
        }),
      })),
    );
  }
  return cells;
}

const DATASET_LABEL: Record<string, string> = { cifar10: 'CIFAR-10', mnist: 'MNIST', 'fashion-mnist': 'Fashion-MNIST' };

/** "CIFAR-10 (cifar-10-batches-bin)": the dataset kind and the folder the cells ran on. */
export function semanticDatasetLabel(results: CellResult[]): string {
  const seen = [
    ...new Set(
      results.map((r) => {
        const d = r.cell.config.data as { type?: string; root?: string };
        return `${DATASET_LABEL[d.type ?? ''] ?? d.type ?? 'unknown data'}${d.root ? ` (${path.basename(d.root)})` : ''}`;
      }),
    ),
  ];
  return seen.length ? seen.join(', ') : 'no data';
}

export function semanticTable(results: CellResult[], budget: Budget): Table {
  const methods = [...new Set(results.map((r) => r.cell.method))];
  const variants = [...new Set(results.map((r) => r.cell.variant ?? ''))];
  const get = (m: string, v: string) => stat(results.filter((r) => r.cell.method === m && (r.cell.variant ?? '') === v).map((r) => (r.result.mean as Record<string, number>).i_auroc));
  const rows = variants.map((v) => [`{${v.replace('normal-', '').split('').join(',')}}`, ...methods.map((m) => fmtStat(get(m, v)))]);
  // mean over the normal-class sets for each seed, then mean ± std over seeds
  const seeds = [...new Set(results.map((r) => r.cell.seed))];
  const meanOverSets = (m: string) =>
    stat(seeds.map((sd) => stat(results.filter((r) => r.cell.method === m && r.cell.seed === sd).map((r) => (r.result.mean as Record<string, number>).i_auroc)).mean));
  rows.push(['mean', ...methods.map((m) => fmtStat(meanOverSets(m)))]);
  return {
    title: `Semantic anomaly detection on ${semanticDatasetLabel(results)} (the paper's CIFAR-10 protocol, unified): image AUROC per normal-class set, budget ${budget}`,
    header: ['normal classes', ...methods],
    rows,
    notes: ['Image score = mean of the anomaly map; AUROC in %; one unified model per normal-class set and method.'],
  };
}

export const semantic: ExperimentDef = {
  name: 'semantic',
  description: 'semantic AD, CIFAR-10 protocol (normal sets {01234} {56789} {02468} {13579}), any CIFAR-10/MNIST-format data at --root',
  plan: planSemantic,
  render: async (options, results, outDir) => {
    const t = semanticTable(results, options.budget);
    writeTable(path.join(outDir, 'tables'), 'semantic', t);
    return tableToText(t);
  },
};
