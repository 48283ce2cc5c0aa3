// MVTec AD (Bergmann et al., CVPR 2019) in its official layout:
//   <root>/<category>/train/good/*.png
//   <root>/<category>/test/<good|defect>/*.png
//   <root>/<category>/ground_truth/<defect>/<id>_mask.png
// Works on the full 15-category download, any subset, or a single category folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, type Sample } from '@unified-ad/core';
import { assertClassesHaveTrainImages, checkSamples, type LoadOptions } from './checks';
import { FileDataset } from './file-dataset';
import { isImageFile } from './image-io';

export interface MvtecOptions extends LoadOptions {
  /** category folder names under root (default: every folder that has train/good) */
  categories?: string[];
  /**
   * Image label of test/<defect> images: 'mask' (default) = 1 when the binarised mask has any positive
   * pixel (masks are decoded at load time); 'folder' = 1 for every defect folder. test/good is always 0.
   */
  labelFrom?: 'mask' | 'folder';
  /** dataset name (default 'mvtec-ad') */
  name?: string;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function requireDir(p: string, what: string): void {
  if (!isDir(p)) throw new UserError(`${what} not found: ${p}`);
}

/** Image files of a folder, sorted by name (code-point order, like Python's sorted()). */
export function listImages(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => isImageFile(f) && !f.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function stem(file: string): string {
  return file.slice(0, file.length - path.extname(file).length);
}

/** Category folders: explicit list, or root itself when it is a category, or every subfolder with train/. */
function resolveCategories(root: string, categories?: string[]): { name: string; dir: string }[] {
  requireDir(root, 'MVTec AD root folder');
  if (categories && categories.length > 0) {
    return categories.map((c) => {
      const dir = path.join(root, c);
      if (!isDir(dir)) throw new UserError(`MVTec AD category '${c}' not found: ${dir}`);
      return { name: c, dir };
    });
  }
  if (isDir(path.join(root, 'train'))) return [{ name: path.basename(path.resolve(root)), dir: root }];
  const found = fs
    .readdirSync(root)
    .filter((c) => !c.startsWith('.') && isDir(path.join(root, c, 'train')))
    .sort();
  if (found.length === 0) throw new UserError(`no MVTec AD categories (folders with train/good) in ${root}`);
  return found.map((c) => ({ name: c, dir: path.join(root, c) }));
}

/** Lists the samples of one category (no file is opened). */
export function scanMvtecCategory(name: string, dir: string): Sample[] {
  const trainDir = path.join(dir, 'train', 'good');
  requireDir(trainDir, `MVTec AD training folder of '${name}'`);
  const testDir = path.join(dir, 'test');
  requireDir(testDir, `MVTec AD test folder of '${name}'`);
  const samples: Sample[] = [];
  const trainFiles = listImages(trainDir);
  if (trainFiles.length === 0) throw new UserError(`class '${name}' has no training images: ${trainDir}`);
  for (const f of trainFiles) {
    samples.push({ id: `${name}/train/good/${stem(f)}`, className: name, split: 'train', label: 0, defectType: 'good', imagePath: path.join(trainDir, f) });
  }
  const types = fs
    .readdirSync(testDir)
    .filter((t) => !t.startsWith('.') && isDir(path.join(testDir, t)))
    .sort();
  let nTest = 0;
  for (const t of types) {
    for (const f of listImages(path.join(testDir, t))) {
      nTest++;
      const s: Sample = {
        id: `${name}/test/${t}/${stem(f)}`,
        className: name,
        split: 'test',
        label: t === 'good' ? 0 : 1,
        defectType: t,
        imagePath: path.join(testDir, t, f),
      };
      if (t !== 'good') s.maskPath = path.join(dir, 'ground_truth', t, `${stem(f)}_mask.png`);
      samples.push(s);
    }
  }
  if (nTest === 0) throw new UserError(`class '${name}' has no test images: ${testDir}`);
  return samples;
}

/** Loads MVTec AD (or anything in its layout, e.g. the synthetic generator's output). */
export async function loadMvtec(root: string, opts: MvtecOptions = {}): Promise<FileDataset> {
  const name = opts.name ?? 'mvtec-ad';
  const cats = resolveCategories(root, opts.categories);
  const all = cats.flatMap((c) => scanMvtecCategory(c.name, c.dir));
  const labelFromMask = (opts.labelFrom ?? 'mask') === 'mask';
  const checked = await checkSamples(name, all, opts, labelFromMask);
  const samples = checked.samples;
  if (labelFromMask) {
    let relabelled = 0;
    for (const s of samples) {
      if (s.maskPath && checked.maskPositives.get(s.maskPath) === 0) {
        s.label = 0;
        relabelled++;
      }
    }
    if (relabelled > 0) {
      const what = relabelled === 1 ? '1 defect image has an empty mask and is' : `${relabelled} defect images have empty masks and are`;
      (opts.warn ?? console.warn)(`${name}: ${what} labelled normal (labelFrom: 'mask'; use labelFrom: 'folder' to keep them anomalous)`);
    }
  }
  const classes = cats.map((c) => c.name);
  assertClassesHaveTrainImages(classes, samples, (c) => path.join(cats.find((x) => x.name === c)!.dir, 'train', 'good'));
  return new FileDataset(name, samples, classes, checked.skipped, checked.imageSizes);
}
