// Load-time checks of a file list: every image readable, every mask the size of its image.
// One problem -> one UserError naming the path, or (onError: 'skip') the sample is dropped and counted.
import { UserError, type Sample } from '@unified-ad/core';
import { decodeImage, decodeMask, readImageHeader } from './image-io';

export type OnError = 'throw' | 'skip';

/**
 * How much of every file is read at load time:
 * - 'none': nothing (problems surface in loadImage / loadMask);
 * - 'header': image and mask headers (missing / non-image files, mask size ≠ image size);
 * - 'decode': full decode of every image and mask (also catches truncated files; slower).
 */
export type CheckLevel = 'none' | 'header' | 'decode';

/** Options every file-backed loader takes. */
export interface LoadOptions {
  /** 'throw' (default): the first problem is a UserError naming the file. 'skip': drop the sample, warn once with a count. */
  onError?: OnError;
  /** default 'header'; 'decode' when onError is 'skip' (so that truncated files can be skipped too) */
  check?: CheckLevel;
  /** where warnings go (default console.warn) */
  warn?: (message: string) => void;
  /** files checked in parallel (default 4) */
  concurrency?: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface CheckResult {
  samples: Sample[];
  skipped: SkippedFile[];
  /** image sizes found (by image path) */
  imageSizes: Map<string, { width: number; height: number }>;
  /** positive pixels of each decoded mask (by mask path), when masks were decoded */
  maskPositives: Map<string, number>;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export function resolveCheckLevel(opts: LoadOptions): CheckLevel {
  return opts.check ?? (opts.onError === 'skip' ? 'decode' : 'header');
}

/**
 * Checks the samples' files. `decodeMasks` forces full mask decoding (needed when labels come from masks).
 * Problems are thrown (the first in sample order) or, with onError 'skip', collected and the samples dropped.
 */
export async function checkSamples(
  datasetName: string,
  samples: Sample[],
  opts: LoadOptions,
  decodeMasks = false,
): Promise<CheckResult> {
  const level = resolveCheckLevel(opts);
  const onError = opts.onError ?? 'throw';
  const imageSizes = new Map<string, { width: number; height: number }>();
  const maskPositives = new Map<string, number>();
  /** normal rows whose mask marks anomalous pixels: the label wins, the mask is ignored (warned about below) */
  const normalWithDefects: { sample: Sample; positives: number; pixels: number }[] = [];
  let stop = false;
  const results = await mapLimit(samples, opts.concurrency ?? 4, async (s): Promise<SkippedFile | null> => {
    if (stop) return null;
    try {
      let size: { width: number; height: number } | null = null;
      if (level === 'decode') {
        const img = await decodeImage(s.imagePath);
        size = { width: img.width, height: img.height };
      } else if (level === 'header' || (decodeMasks && s.maskPath)) {
        size = await readImageHeader(s.imagePath);
      }
      if (size) imageSizes.set(s.imagePath, { width: size.width, height: size.height });
      if (s.maskPath && (level !== 'none' || decodeMasks)) {
        const maskPath = s.maskPath;
        let msize: { width: number; height: number };
        if (level === 'decode' || decodeMasks || s.label === 0) {
          const m = await decodeMask(maskPath);
          maskPositives.set(maskPath, m.positives);
          if (s.label === 0 && m.positives > 0) normalWithDefects.push({ sample: s, positives: m.positives, pixels: m.width * m.height });
          msize = m;
        } else {
          msize = await readImageHeader(maskPath);
        }
        if (size && (msize.width !== size.width || msize.height !== size.height)) {
          throw new UserError(
            `mask size ${msize.width}x${msize.height} differs from image size ${size.width}x${size.height}: ${maskPath} (image ${s.imagePath})`,
          );
        }
      }
      return null;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      if (onError === 'throw') stop = true;
      return { path: s.imagePath, reason: e.message };
    }
  });
  const skipped: SkippedFile[] = [];
  const kept: Sample[] = [];
  results.forEach((r, i) => {
    if (r) skipped.push(r);
    else kept.push(samples[i]);
  });
  if (skipped.length > 0 && onError === 'throw') throw new UserError(skipped[0].reason);
  if (normalWithDefects.length > 0) {
    const first = normalWithDefects.find((x) => !skipped.some((k) => k.path === x.sample.imagePath)) ?? normalWithDefects[0];
    const pct = ((100 * first.positives) / first.pixels).toFixed(first.positives === first.pixels ? 0 : 1);
    (opts.warn ?? console.warn)(
      `${datasetName}: ${normalWithDefects.length} normal (label 0) row${normalWithDefects.length > 1 ? 's have masks' : ' has a mask'} marking anomalous pixels; ` +
        `the label wins and the mask is ignored (first: ${first.sample.maskPath}, ${pct}% positive, image ${first.sample.imagePath}); fix the label or the mask`,
    );
  }
  if (skipped.length > 0) {
    (opts.warn ?? console.warn)(
      `${datasetName}: skipped ${skipped.length} of ${samples.length} images with problems (first: ${skipped[0].reason})`,
    );
  }
  return { samples: kept, skipped, imageSizes, maskPositives };
}

/** Every class needs at least one training image; `where(cls)` names the folder or file to fix. */
export function assertClassesHaveTrainImages(classes: string[], samples: Sample[], where: (cls: string) => string): void {
  const n = new Map<string, number>();
  for (const s of samples) if (s.split === 'train') n.set(s.className, (n.get(s.className) ?? 0) + 1);
  for (const c of classes) {
    if (!n.get(c)) throw new UserError(`class '${c}' has no training images: ${where(c)}`);
  }
}
