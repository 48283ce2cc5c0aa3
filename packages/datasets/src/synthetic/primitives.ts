// Procedural building blocks of the synthetic industrial images: value noise, blobs, strokes, compositing.
import type { Rng } from '@unified-ad/core';

export const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
export const smoothstep = (a: number, b: number, x: number) => {
  const t = clamp01((x - a) / (b - a));
  return t * t * (3 - 2 * t);
};
export const frac = (x: number) => x - Math.floor(x);

/** 2-D lattice value noise in [0, 1] with smooth interpolation; fbm sums octaves. */
export class ValueNoise {
  private readonly perm = new Uint8Array(512);
  private readonly vals = new Float32Array(256);

  constructor(rng: Rng) {
    const p = rng.permutation(256);
    for (let i = 0; i < 512; i++) this.perm[i] = p[i & 255];
    for (let i = 0; i < 256; i++) this.vals[i] = rng.next();
  }

  /** deterministic pseudo-random value in [0, 1) for an integer */
  hash(i: number): number {
    return this.vals[this.perm[(i & 255) + this.perm[(i >> 8) & 255]]];
  }

  private lattice(ix: number, iy: number): number {
    return this.vals[this.perm[(ix & 255) + this.perm[iy & 255]]];
  }

  at(x: number, y: number): number {
    const ix = Math.floor(x), iy = Math.floor(y);
    let fx = x - ix, fy = y - iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const a = this.lattice(ix, iy), b = this.lattice(ix + 1, iy);
    const c = this.lattice(ix, iy + 1), d = this.lattice(ix + 1, iy + 1);
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
  }

  fbm(x: number, y: number, octaves = 4): number {
    let sum = 0, amp = 0.5, norm = 0, f = 1;
    for (let o = 0; o < octaves; o++) {
      sum += amp * this.at(x * f + 17.3 * o, y * f - 9.1 * o);
      norm += amp;
      amp *= 0.5;
      f *= 2;
    }
    return sum / norm;
  }
}

/** A defect layer: per-pixel opacity (0 outside the defect) and the colour it paints. */
export interface DefectLayer {
  alpha: Float32Array;
  target: Float32Array;
}

export function newLayer(size: number): DefectLayer {
  return { alpha: new Float32Array(size * size), target: new Float32Array(size * size * 3) };
}

/**
 * An irregular blob: centre (cx, cy), radius r (pixels), boundary wobble `wobble` (fraction of r).
 * Calls fn(x, y, depth) for pixels inside, depth in (0, 1] growing towards the centre.
 */
export function forBlob(
  size: number,
  noise: ValueNoise,
  cx: number,
  cy: number,
  r: number,
  aspect: number,
  angle: number,
  wobble: number,
  fn: (i: number, depth: number) => void,
): void {
  const ext = r * Math.max(aspect, 1 / aspect) * (1 + wobble) + 2;
  const x0 = Math.max(0, Math.floor(cx - ext)), x1 = Math.min(size - 1, Math.ceil(cx + ext));
  const y0 = Math.max(0, Math.floor(cy - ext)), y1 = Math.min(size - 1, Math.ceil(cy + ext));
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const nf = 3 / r;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const u = (dx * ca + dy * sa) / aspect, v = (-dx * sa + dy * ca) * aspect;
      const d = Math.sqrt(u * u + v * v);
      const rr = r * (1 + wobble * 2 * (noise.fbm(dx * nf + 50, dy * nf + 50, 3) - 0.5));
      const depth = 1 - d / rr;
      if (depth > 0) fn(y * size + x, depth);
    }
  }
}

/**
 * A stroke along a quadratic Bézier p0 → p2 (control p1), half-width w (pixels), optionally wavering.
 * Calls fn(i, t) for pixels within the stroke, t = 1 - distance / w in (0, 1].
 */
export function forStroke(
  size: number,
  p0: [number, number],
  p1: [number, number],
  p2: [number, number],
  w: number,
  fn: (i: number, t: number) => void,
): void {
  const K = 48;
  const pts: [number, number][] = [];
  for (let k = 0; k <= K; k++) {
    const t = k / K, a = (1 - t) * (1 - t), b = 2 * (1 - t) * t, c = t * t;
    pts.push([a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]]);
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs) - w - 1)), x1 = Math.min(size - 1, Math.ceil(Math.max(...xs) + w + 1));
  const y0 = Math.max(0, Math.floor(Math.min(...ys) - w - 1)), y1 = Math.min(size - 1, Math.ceil(Math.max(...ys) + w + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5, py = y + 0.5;
      let best = Infinity;
      for (let k = 0; k < K; k++) {
        const [ax, ay] = pts[k], [bx, by] = pts[k + 1];
        const ex = bx - ax, ey = by - ay;
        const l2 = ex * ex + ey * ey;
        const s = l2 > 0 ? clamp01(((px - ax) * ex + (py - ay) * ey) / l2) : 0;
        const qx = ax + s * ex - px, qy = ay + s * ey - py;
        const d2 = qx * qx + qy * qy;
        if (d2 < best) best = d2;
      }
      const d = Math.sqrt(best);
      if (d < w) fn(y * size + x, 1 - d / w);
    }
  }
}

/** A random gently curved stroke of the given length, centred at (cx, cy). */
export function randomCurve(rng: Rng, cx: number, cy: number, length: number, bend = 0.25): [[number, number], [number, number], [number, number]] {
  const a = rng.uniform(0, Math.PI);
  const dx = (Math.cos(a) * length) / 2, dy = (Math.sin(a) * length) / 2;
  const off = rng.uniform(-bend, bend) * length;
  return [
    [cx - dx, cy - dy],
    [cx - Math.sin(a) * off, cy + Math.cos(a) * off],
    [cx + dx, cy + dy],
  ];
}

/**
 * Paints a defect layer onto an image. Opacities below `cut` are dropped so that the ground-truth mask
 * (alpha > 0) is exactly the set of pixels the defect changed. Returns the 0/1 mask.
 */
export function composite(rgb: Float32Array, layer: DefectLayer, cut = 0.12): Uint8Array {
  const n = layer.alpha.length;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = layer.alpha[i];
    if (a < cut) continue;
    mask[i] = 1;
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = rgb[3 * i + c] * (1 - a) + layer.target[3 * i + c] * a;
  }
  return mask;
}

/**
 * Adds approximately Gaussian sensor noise with standard deviation sigma to every value. Each value uses
 * one uint32 of the generator: the sum of its four bytes (Irwin–Hall, n = 4) is close to normal and much
 * cheaper than Box–Muller for a whole image.
 */
export function addSensorNoise(rgb: Float32Array, rng: Rng, sigma: number): void {
  const k = sigma / Math.sqrt((4 * (256 * 256 - 1)) / 12);
  for (let i = 0; i < rgb.length; i++) {
    const u = rng.nextUint32();
    rgb[i] += k * ((u & 255) + ((u >>> 8) & 255) + ((u >>> 16) & 255) + (u >>> 24) - 510);
  }
}

/** Rounds and clamps to 0..255. */
export function toUint8(rgb: Float32Array): Uint8Array {
  const c = new Uint8ClampedArray(rgb); // ToUint8Clamp: round half to even, clamp
  return new Uint8Array(c.buffer, c.byteOffset, c.length);
}

/**
 * A smooth field evaluated on a coarse (cells+1)² grid and interpolated bilinearly to size×size: for
 * low-frequency things such as illumination, where per-pixel noise evaluation would be wasted work.
 */
export function smoothField(size: number, fn: (X: number, Y: number) => number, cells = 16): Float32Array {
  const g = cells + 1;
  const grid = new Float32Array(g * g);
  for (let j = 0; j < g; j++) for (let i = 0; i < g; i++) grid[j * g + i] = fn(i / cells, j / cells);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = ((y + 0.5) / size) * cells;
    const j = Math.min(cells - 1, Math.floor(gy));
    const fy = gy - j;
    for (let x = 0; x < size; x++) {
      const gx = ((x + 0.5) / size) * cells;
      const i = Math.min(cells - 1, Math.floor(gx));
      const fx = gx - i;
      const a = grid[j * g + i], b = grid[j * g + i + 1], c = grid[(j + 1) * g + i], d = grid[(j + 1) * g + i + 1];
      out[y * size + x] = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }
  }
  return out;
}
