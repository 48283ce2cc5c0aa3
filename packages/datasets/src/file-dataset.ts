// A Dataset whose samples are image files on disk (MVTec AD, Magnetic Tile, manifests, synthetic data).
import { UserError, type Dataset, type Sample } from '@unified-ad/core';
import { decodeMask, loadImageFile, maskToSize, readImageHeader } from './image-io';
import type { SkippedFile } from './checks';

export function assertSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 16384) throw new UserError(`image size must be an integer in [1, 16384], got ${size}`);
}

/** Whether every anomalous test sample has a ground-truth mask (pixel-level metrics are possible). */
export function hasPixelLabels(ds: Pick<Dataset, 'samples'>, className?: string): boolean {
  const anomalous = ds.samples.filter((s) => s.split === 'test' && s.label === 1 && (className === undefined || s.className === className));
  return anomalous.length > 0 && anomalous.every((s) => s.maskPath !== undefined);
}

export class FileDataset implements Dataset {
  constructor(
    readonly name: string,
    readonly samples: Sample[],
    readonly classes: string[],
    /** files dropped at load time (onError: 'skip') */
    readonly skipped: SkippedFile[] = [],
    private readonly imageSizes: Map<string, { width: number; height: number }> = new Map(),
  ) {}

  loadImage(sample: Sample, size: number): Promise<Float32Array> {
    assertSize(size);
    return loadImageFile(sample.imagePath, size);
  }

  async loadMask(sample: Sample, size: number): Promise<Float32Array> {
    assertSize(size);
    if (sample.label === 0) return new Float32Array(size * size);
    if (!sample.maskPath) {
      throw new UserError(`no ground-truth mask for anomalous sample ${sample.id} (${sample.imagePath}); check hasPixelLabels() before pixel metrics`);
    }
    const mask = await decodeMask(sample.maskPath);
    let img = this.imageSizes.get(sample.imagePath);
    if (!img) {
      img = await readImageHeader(sample.imagePath);
      this.imageSizes.set(sample.imagePath, { width: img.width, height: img.height });
    }
    if (img.width !== mask.width || img.height !== mask.height) {
      throw new UserError(
        `mask size ${mask.width}x${mask.height} differs from image size ${img.width}x${img.height}: ${sample.maskPath} (image ${sample.imagePath})`,
      );
    }
    return maskToSize(mask, size);
  }
}
