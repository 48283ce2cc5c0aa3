// Magnetic Tile Defects (Huang et al., "Surface defect saliency of magnetic tile", 2018), original layout:
//   <root>/MT_<Type>/Imgs/<name>.jpg  with a same-named <name>.png mask (soft edges: positive when > 127).
// Split rule (shared/README.md): sort MT_Free/Imgs/*.jpg by file name; sorted index i is a test image
// when i % 5 == 4, else a training image. Every defect image is a test image, labelled by its folder
// (4 MT_Uneven masks are empty: those images stay anomalous, but have no positive pixel).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, type Sample } from '@unified-ad/core';
import { assertClassesHaveTrainImages, checkSamples, type LoadOptions } from './checks';
import { FileDataset } from './file-dataset';

export interface MagneticTileOptions extends LoadOptions {
  /** class name (default 'magnetic_tile') */
  className?: string;
  /** dataset name (default 'magnetic-tile') */
  name?: string;
}

export const MAGNETIC_TILE_CLASS = 'magnetic_tile';

function jpgs(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.jpg') && !f.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function stem(f: string): string {
  return f.slice(0, f.length - path.extname(f).length);
}

/** Lists Magnetic Tile samples with the fixed split (no file opened). */
export function scanMagneticTile(root: string, className = MAGNETIC_TILE_CLASS): Sample[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UserError(`Magnetic Tile root folder not found: ${root}`);
  const freeDir = path.join(root, 'MT_Free', 'Imgs');
  if (!fs.existsSync(freeDir)) throw new UserError(`Magnetic Tile normal folder not found: ${freeDir}`);
  const samples: Sample[] = [];
  const free = jpgs(freeDir);
  if (free.length === 0) throw new UserError(`class '${className}' has no training images: ${freeDir}`);
  free.forEach((f, i) => {
    const split = i % 5 === 4 ? 'test' : 'train';
    samples.push({ id: `${className}/${split}/good/${stem(f)}`, className, split, label: 0, defectType: 'good', imagePath: path.join(freeDir, f) });
  });
  const types = fs
    .readdirSync(root)
    .filter((d) => d.startsWith('MT_') && d !== 'MT_Free' && fs.statSync(path.join(root, d)).isDirectory())
    .sort();
  for (const d of types) {
    const imgs = path.join(root, d, 'Imgs');
    if (!fs.existsSync(imgs)) throw new UserError(`Magnetic Tile defect folder has no Imgs/: ${imgs}`);
    const defect = d.slice(3);
    for (const f of jpgs(imgs)) {
      samples.push({
        id: `${className}/test/${defect}/${stem(f)}`,
        className,
        split: 'test',
        label: 1,
        defectType: defect,
        imagePath: path.join(imgs, f),
        maskPath: path.join(imgs, `${stem(f)}.png`),
      });
    }
  }
  return samples;
}

export async function loadMagneticTile(root: string, opts: MagneticTileOptions = {}): Promise<FileDataset> {
  const name = opts.name ?? 'magnetic-tile';
  const className = opts.className ?? MAGNETIC_TILE_CLASS;
  const all = scanMagneticTile(root, className);
  const checked = await checkSamples(name, all, opts);
  assertClassesHaveTrainImages([className], checked.samples, () => path.join(root, 'MT_Free', 'Imgs'));
  return new FileDataset(name, checked.samples, [className], checked.skipped, checked.imageSizes);
}
