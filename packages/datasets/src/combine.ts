// Several datasets as one unified multi-class dataset (UniAD's unified setting), e.g. bottle + magnetic tile.
import { UserError, type Dataset, type Sample } from '@unified-ad/core';
import { mapLimit } from './checks';
import { assertSize } from './file-dataset';

/** A dataset made of parts; each sample is read by the part it came from. */
export class CombinedDataset implements Dataset {
  readonly samples: Sample[];
  readonly classes: string[];
  private readonly owner = new Map<string, Dataset>();

  constructor(
    readonly name: string,
    readonly parts: Dataset[],
  ) {
    if (parts.length === 0) throw new UserError('combineDatasets: no datasets given');
    const classOwner = new Map<string, string>();
    this.classes = [];
    this.samples = [];
    for (const p of parts) {
      for (const c of p.classes) {
        const prev = classOwner.get(c);
        if (prev !== undefined) throw new UserError(`class '${c}' appears in both ${prev} and ${p.name}: class names must be unique in a combined dataset`);
        classOwner.set(c, p.name);
        this.classes.push(c);
      }
      for (const s of p.samples) {
        if (this.owner.has(s.id)) throw new UserError(`sample id '${s.id}' appears in both ${this.owner.get(s.id)!.name} and ${p.name}`);
        this.owner.set(s.id, p);
        this.samples.push(s);
      }
    }
  }

  private part(sample: Sample): Dataset {
    const p = this.owner.get(sample.id);
    if (!p) throw new UserError(`sample ${sample.id} is not part of dataset ${this.name}`);
    return p;
  }

  loadImage(sample: Sample, size: number): Promise<Float32Array> {
    return this.part(sample).loadImage(sample, size);
  }

  loadMask(sample: Sample, size: number): Promise<Float32Array> {
    return this.part(sample).loadMask(sample, size);
  }
}

/** Concatenates datasets: classes in the given order, samples of each part in its own order. */
export function combineDatasets(datasets: Dataset[], name?: string): CombinedDataset {
  return new CombinedDataset(name ?? datasets.map((d) => d.name).join('+'), datasets);
}

/** Samples of a dataset filtered by split and (optionally) class. */
export function selectSamples(ds: Pick<Dataset, 'samples'>, split: 'train' | 'test', className?: string): Sample[] {
  return ds.samples.filter((s) => s.split === split && (className === undefined || s.className === className));
}

/**
 * Loads many images into one NHWC float32 buffer ([samples.length, size, size, 3], values in [0, 255]),
 * decoding `concurrency` images at a time (sharp decodes on the libuv thread pool).
 */
export async function loadImageBatch(ds: Dataset, samples: Sample[], size: number, concurrency = 4): Promise<Float32Array> {
  assertSize(size);
  const per = size * size * 3;
  const out = new Float32Array(samples.length * per);
  await mapLimit(samples, concurrency, async (s, i) => {
    const img = await ds.loadImage(s, size);
    if (img.length !== per) throw new UserError(`${ds.name}: image of ${s.id} has ${img.length} values, expected ${per}`);
    out.set(img, i * per);
  });
  return out;
}

/** Loads many masks into one [samples.length, size, size] float32 buffer of 0/1. */
export async function loadMaskBatch(ds: Dataset, samples: Sample[], size: number, concurrency = 4): Promise<Float32Array> {
  assertSize(size);
  const per = size * size;
  const out = new Float32Array(samples.length * per);
  await mapLimit(samples, concurrency, async (s, i) => {
    out.set(await ds.loadMask(s, size), i * per);
  });
  return out;
}
