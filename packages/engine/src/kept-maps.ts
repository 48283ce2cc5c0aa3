// eval.keepMaps: the anomaly maps of a few fixed anomalous test images, kept at every periodic evaluation
// (every train.evalEvery epochs) from the predictions that evaluation already made, no extra forward pass.
// How a model's maps change over training (the identical shortcut, paper Fig. 3b) can then be drawn afterwards.
//
// <group folder>/eval-maps/samples.json   the chosen images: id, class, defect type, RGB image and mask at `size`
// <group folder>/eval-maps/epoch-<N>.json  their maps after epoch N (float32, base64), in the order of samples.json
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserError, readJsonFile, writeFileAtomic, type AnomalyMap, type Dataset, type Sample } from '@unified-ad/core';
import { resizeBilinear, resizeMaskNearest } from '@unified-ad/eval';
import type { Predictions } from './predict';
import type { TestSet } from './testset';

export const KEPT_MAPS_DIR = 'eval-maps';
const SAMPLES_FILE = 'samples.json';
const epochFile = (epoch: number) => `epoch-${epoch}.json`;
const EPOCH_RE = /^epoch-(\d+)\.json$/;

/**
 * Indices of up to k anomalous samples, deterministic: the first image of each class, then of each class's next
 * defect type, and so on (classes and defect types in the order the samples list them).
 */
export function pickKeptMapSamples(samples: Sample[], k: number): number[] {
  const perClass = new Map<string, Map<string, number[]>>();
  samples.forEach((s, i) => {
    if (s.label !== 1) return;
    const types = perClass.get(s.className) ?? new Map<string, number[]>();
    perClass.set(s.className, types);
    types.set(s.defectType, [...(types.get(s.defectType) ?? []), i]);
  });
  // per class: its anomalous images spread over its defect types (round-robin over the types)
  const spread = [...perClass.values()].map((types) => {
    const queues = [...types.values()];
    const out: number[] = [];
    for (let r = 0; queues.some((q) => r < q.length); r++) for (const q of queues) if (r < q.length) out.push(q[r]!);
    return out;
  });
  const out: number[] = [];
  for (let r = 0; out.length < k && spread.some((q) => r < q.length); r++) for (const q of spread) if (r < q.length && out.length < k) out.push(q[r]!);
  return out;
}

const b64 = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

const KeptSampleSchema = z.object({
  id: z.string(),
  className: z.string(),
  defectType: z.string(),
  /** RGB HWC uint8 at size × size, base64 */
  image: z.string(),
  /** ground truth 0/1 uint8 at size × size, base64; null when the dataset has no masks */
  mask: z.string().nullable(),
});
const SamplesFileSchema = z.object({ version: z.literal(1), size: z.number().int().positive(), resolution: z.number().int().positive(), samples: z.array(KeptSampleSchema) }).loose();
const EpochFileSchema = z.object({ epoch: z.number().int().min(0), height: z.number().int().positive(), width: z.number().int().positive(), ids: z.array(z.string()), data: z.string() }).loose();

/** One kept image, decoded. */
export interface KeptMapSample {
  id: string;
  className: string;
  defectType: string;
  /** RGB HWC 0..255 at size × size */
  image: Uint8Array;
  /** 0/1 at size × size; null without masks */
  mask: Uint8Array | null;
}

export interface KeptMaps {
  /** side of the images, masks and maps */
  size: number;
  samples: KeptMapSample[];
  /** evaluated epochs, ascending */
  epochs: number[];
  /** the maps of an epoch, aligned with `samples` */
  maps(epoch: number): AnomalyMap[];
}

const HINT = 're-run with eval.keepMaps > 0 to rewrite it';

/** Reads a group folder's kept maps; null when there are none (eval.keepMaps was 0, or the method has no maps). */
export function readKeptMaps(groupDir: string): KeptMaps | null {
  const dir = path.join(groupDir, KEPT_MAPS_DIR);
  const sf = path.join(dir, SAMPLES_FILE);
  if (!fs.existsSync(sf)) return null;
  const s = readJsonFile(sf, SamplesFileSchema, HINT);
  const n = s.size * s.size;
  const decode = (x: string, len: number, file: string, what: string) => {
    const buf = Buffer.from(x, 'base64');
    if (buf.length !== len) throw new UserError(`${file}: ${what} has ${buf.length} bytes, expected ${len}; ${HINT}`);
    return buf;
  };
  const samples: KeptMapSample[] = s.samples.map((k) => ({
    id: k.id, className: k.className, defectType: k.defectType,
    image: new Uint8Array(decode(k.image, 3 * n, sf, `image of ${k.id}`)),
    mask: k.mask === null ? null : new Uint8Array(decode(k.mask, n, sf, `mask of ${k.id}`)),
  }));
  const epochs = fs.readdirSync(dir).flatMap((f) => (EPOCH_RE.test(f) ? [Number(EPOCH_RE.exec(f)![1])] : [])).sort((a, b) => a - b);
  const ids = samples.map((x) => x.id);
  return {
    size: s.size, samples, epochs,
    maps(epoch) {
      const f = path.join(dir, epochFile(epoch));
      const e = readJsonFile(f, EpochFileSchema, HINT);
      if (e.height !== s.size || e.width !== s.size || e.ids.join('\n') !== ids.join('\n')) throw new UserError(`${f}: does not match ${SAMPLES_FILE} (other images or size); ${HINT}`);
      const buf = decode(e.data, 4 * n * ids.length, f, 'data');
      const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      return ids.map((_, i) => ({ data: all.subarray(i * n, (i + 1) * n), height: s.size, width: s.size }));
    },
  };
}

/** Writes the kept maps of one model (one group of a run) during its training. */
export class MapKeeper {
  private samplesWritten = false;
  private constructor(
    private readonly dir: string,
    private readonly test: TestSet,
    private readonly dataset: Dataset,
    private readonly picks: number[],
    private readonly size: number,
    private readonly resolution: number,
  ) {}

  /**
   * The keeper of a group, or null when keepMaps is 0, there is no run folder or no anomalous test image. A fresh
   * (not resumed) run starts without an eval-maps folder.
   */
  static create(opts: { groupDir: string | undefined; keep: number; maxSize: number; resolution: number; test: TestSet; dataset: Dataset; resume: boolean }): MapKeeper | null {
    if (!opts.groupDir) return null;
    const dir = path.join(opts.groupDir, KEPT_MAPS_DIR);
    if (!opts.resume) fs.rmSync(dir, { recursive: true, force: true });
    if (opts.keep <= 0) return null;
    const picks = pickKeptMapSamples(opts.test.samples, opts.keep);
    if (!picks.length) return null;
    return new MapKeeper(dir, opts.test, opts.dataset, picks, Math.min(opts.resolution, opts.maxSize), opts.resolution);
  }

  /** Keeps the chosen images' maps of the predictions made by the evaluation after `epoch`. */
  async write(epoch: number, pred: Predictions): Promise<void> {
    if (!pred.maps) return; // an image-level-only method: nothing to keep
    if (!this.samplesWritten) await this.writeSamples();
    const n = this.size * this.size;
    const data = new Float32Array(n * this.picks.length);
    this.picks.forEach((i, k) => data.set(this.shrink(pred.maps![i]!).data, k * n));
    const rec = { epoch, height: this.size, width: this.size, ids: this.picks.map((i) => this.test.samples[i]!.id), data: b64(data) };
    writeFileAtomic(path.join(this.dir, epochFile(epoch)), JSON.stringify(rec) + '\n');
  }

  /** Removes the maps of epochs that are not in `evaluated` (left by a run that stopped after them, before its checkpoint). */
  prune(evaluated: number[]): void {
    if (!fs.existsSync(this.dir)) return;
    const keep = new Set(evaluated);
    for (const f of fs.readdirSync(this.dir)) {
      const m = EPOCH_RE.exec(f);
      if (m && !keep.has(Number(m[1]))) fs.rmSync(path.join(this.dir, f), { force: true });
    }
  }

  private shrink(m: AnomalyMap): AnomalyMap {
    // half-pixel centres: a 2× reduction averages 2 × 2 pixels
    return m.height === this.size && m.width === this.size ? m : resizeBilinear(m, this.size, this.size, { alignCorners: false });
  }

  private async writeSamples(): Promise<void> {
    const n = this.size * this.size;
    const samples = [];
    for (const i of this.picks) {
      const s = this.test.samples[i]!;
      const img = await this.dataset.loadImage(s, this.size);
      const image = new Uint8Array(3 * n);
      for (let j = 0; j < 3 * n; j++) image[j] = Math.max(0, Math.min(255, Math.round(img[j]!)));
      const full = this.test.masks[i];
      let mask: Uint8Array | null = null;
      if (full) {
        const m = this.size === this.resolution ? full : resizeMaskNearest({ data: full, height: this.resolution, width: this.resolution }, this.size, this.size).data;
        mask = Uint8Array.from(m, (v) => (v >= 0.5 ? 1 : 0));
      }
      samples.push({ id: s.id, className: s.className, defectType: s.defectType, image: b64(image), mask: mask ? b64(mask) : null });
    }
    writeFileAtomic(path.join(this.dir, SAMPLES_FILE), JSON.stringify({ version: 1, size: this.size, resolution: this.resolution, samples }) + '\n');
    this.samplesWritten = true;
  }
}
