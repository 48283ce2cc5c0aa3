// Four synthetic industrial classes in the spirit of MVTec AD: two textures (fabric, wood) and two objects
// (disk = a metal bottle top seen from above, screw). Every normal image varies (pose, phase, lighting,
// sensor noise); every defect is painted through a layer whose support is the exact ground-truth mask.
import type { Rng } from '@unified-ad/core';
import {
  ValueNoise,
  clamp01,
  smoothstep,
  newLayer,
  forBlob,
  forStroke,
  randomCurve,
  smoothField,
  type DefectLayer,
} from './primitives';

/** A rendered normal image and how to paint each defect type on it. */
export interface Scene {
  /** clean RGB HWC float (before sensor noise) */
  rgb: Float32Array;
  /** sensor noise sigma (grey levels) */
  noiseSigma: number;
  defect(type: string, rng: Rng): DefectLayer;
}

/** `maxRotation` meaning "any orientation" (the default): objects drawn at a uniform angle, as before the option. */
export const ANY_ORIENTATION = 180;

/** How a scene may vary beyond the class's own randomness. */
export interface PoseOptions {
  /** objects: largest rotation in degrees around the reference pose (180: any orientation) */
  maxRotation: number;
  /**
   * objects: largest offset of the object's centre from the image centre along x and along y, as a fraction of the
   * image side (default or null: the class's own, disk 0.04, screw 0.06)
   */
  maxShift?: number | null;
}

export interface SyntheticClass {
  name: string;
  kind: 'texture' | 'object';
  defects: string[];
  render(size: number, rng: Rng, pose?: PoseOptions): Scene;
}

/**
 * An object's rotation in radians: one draw from the rng either way, so that `maxRotation` 180 (any orientation)
 * gives exactly the images of the generator before the option existed.
 */
function objectRotation(rng: Rng, reference: number, pose?: PoseOptions): number {
  const max = pose?.maxRotation ?? ANY_ORIENTATION;
  if (max >= ANY_ORIENTATION) return rng.uniform(0, TAU);
  return reference + rng.uniform(-max, max) * (Math.PI / 180);
}

/**
 * An object's centre in pixels along one axis: one draw from the rng either way, so that the default (the class's own
 * `range`) gives exactly the images of the generator before `maxShift` existed.
 */
function objectCentre(rng: Rng, size: number, range: number, pose?: PoseOptions): number {
  const m = pose?.maxShift ?? range;
  return size * (0.5 + rng.uniform(-m, m));
}

const TAU = 2 * Math.PI;

function set3(a: Float32Array, i: number, r: number, g: number, b: number): void {
  a[3 * i] = r;
  a[3 * i + 1] = g;
  a[3 * i + 2] = b;
}

/** Low-frequency illumination map (size×size, around 1): a linear gradient plus smooth noise. */
function lighting(rng: Rng, noise: ValueNoise, strength: number, size: number): Float32Array {
  const gx = rng.uniform(-1, 1) * strength, gy = rng.uniform(-1, 1) * strength;
  const gain = rng.uniform(0.92, 1.08);
  const ox = rng.uniform(0, 100);
  return smoothField(size, (X, Y) => gain * (1 + gx * (X - 0.5) + gy * (Y - 0.5) + strength * 0.8 * (noise.fbm(X * 2.5 + ox, Y * 2.5, 3) - 0.5)));
}

// ---------------------------------------------------------------------------------------------- textures

/** Texture defects shared by fabric and wood: irregular blobs and strokes. */
function blobSite(rng: Rng, size: number, rMin: number, rMax: number) {
  return {
    cx: rng.uniform(0.18, 0.82) * size,
    cy: rng.uniform(0.18, 0.82) * size,
    r: rng.uniform(rMin, rMax) * size,
    aspect: rng.uniform(0.65, 1.5),
    angle: rng.uniform(0, Math.PI),
  };
}

// thread cross-section sin(πf)^0.6 and the over/under bump, tabulated (fabric is rendered per pixel)
const LUT_N = 1024;
const THREAD_PROFILE = Float32Array.from({ length: LUT_N + 1 }, (_, k) => Math.pow(Math.sin((Math.PI * k) / LUT_N), 0.6));
const THREAD_BUMP = Float32Array.from({ length: LUT_N + 1 }, (_, k) => 0.72 + 0.28 * Math.sin((Math.PI * k) / LUT_N));

/** Plain-weave fabric: warp and weft threads crossing over and under, with fibre streaks. */
export const fabric: SyntheticClass = {
  name: 'fabric',
  kind: 'texture',
  defects: ['hole', 'stain', 'cut'],
  render(size, rng) {
    const noise = new ValueNoise(rng);
    const theta = rng.uniform(-4, 4) * (Math.PI / 180);
    const p = size / rng.uniform(21, 25);
    const phu = rng.uniform(0, 2 * p), phv = rng.uniform(0, 2 * p);
    const light = lighting(rng, noise, 0.12, size);
    const warp = [72, 96, 142].map((c) => c * rng.uniform(0.95, 1.05));
    const weft = [112, 128, 160].map((c) => c * rng.uniform(0.95, 1.05));
    const ct = Math.cos(theta), st = Math.sin(theta);
    const rgb = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = (x + 0.5) * ct + (y + 0.5) * st + phu;
        const v = -(x + 0.5) * st + (y + 0.5) * ct + phv;
        const i = Math.floor(u / p), j = Math.floor(v / p);
        const fu = u / p - i, fv = v / p - j;
        const ku = (fu * LUT_N) | 0, kv = (fv * LUT_N) | 0;
        let shade: number, col: number[], thread: number;
        if (((i + j) & 1) === 0) {
          // warp on top: runs along u, cross-section in v
          shade = THREAD_PROFILE[kv] * THREAD_BUMP[ku];
          shade *= 0.9 + 0.2 * noise.at(u * 0.9, j * 7.1 + fv * 2);
          col = warp;
          thread = 0.9 + 0.2 * noise.hash(j + 4096);
        } else {
          shade = THREAD_PROFILE[ku] * THREAD_BUMP[kv];
          shade *= 0.9 + 0.2 * noise.at(i * 7.3 + fu * 2, v * 0.9);
          col = weft;
          thread = 0.9 + 0.2 * noise.hash(i);
        }
        const L = light[y * size + x] * thread * (0.22 + 0.78 * shade);
        set3(rgb, y * size + x, col[0] * L, col[1] * L, col[2] * L);
      }
    }
    return {
      rgb,
      noiseSigma: 3,
      defect(type, drng) {
        const layer = newLayer(size);
        const dn = new ValueNoise(drng);
        if (type === 'hole') {
          // threads torn away: dark backing shows through, frayed rim
          const b = blobSite(drng, size, 0.035, 0.07);
          forBlob(size, dn, b.cx, b.cy, b.r, b.aspect, b.angle, 0.35, (i, depth) => {
            layer.alpha[i] = Math.min(1, 0.35 + depth * 4);
            const k = 14 + 10 * dn.at(i % size * 0.3, Math.floor(i / size) * 0.3);
            set3(layer.target, i, k, k, k + 4);
          });
        } else if (type === 'stain') {
          // oil / coffee stain: brown tint, strongest in the middle
          const b = blobSite(drng, size, 0.05, 0.11);
          const tint = [drng.uniform(0.85, 1.0), drng.uniform(0.55, 0.7), drng.uniform(0.25, 0.35)];
          forBlob(size, dn, b.cx, b.cy, b.r, b.aspect, b.angle, 0.3, (i, depth) => {
            layer.alpha[i] = Math.min(0.9, 0.45 + depth * 1.5);
            const g = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3;
            set3(layer.target, i, g * tint[0] + 55, g * tint[1] + 25, g * tint[2]);
          });
        } else if (type === 'cut') {
          // a cut across the threads: dark gap with lighter severed fibre ends at its border
          const [p0, p1, p2] = randomCurve(drng, drng.uniform(0.25, 0.75) * size, drng.uniform(0.25, 0.75) * size, drng.uniform(0.25, 0.45) * size, 0.1);
          const w = Math.max(1.6, size * 0.012);
          forStroke(size, p0, p1, p2, w, (i, t) => {
            layer.alpha[i] = 1;
            const k = t > 0.45 ? 18 : 150;
            set3(layer.target, i, k, k, k * 1.05);
          });
        } else throw new Error(`fabric has no defect type '${type}'`);
        return layer;
      },
    };
  },
};

/** Wood: growth rings bent by turbulence, thin dark latewood lines, pores along the grain. */
export const wood: SyntheticClass = {
  name: 'wood',
  kind: 'texture',
  defects: ['scratch', 'hole', 'stain'],
  render(size, rng) {
    const noise = new ValueNoise(rng);
    const theta = rng.uniform(-6, 6) * (Math.PI / 180);
    const freq = rng.uniform(7, 10);
    const ox = rng.uniform(0, 50), oy = rng.uniform(0, 50);
    const phase = rng.uniform(0, 1);
    const light = lighting(rng, noise, 0.1, size);
    const lightC = [218, 172, 118].map((c) => c * rng.uniform(0.96, 1.04));
    const darkC = [138, 88, 48];
    const ct = Math.cos(theta), st = Math.sin(theta);
    const rgb = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const X = (x + 0.5) / size, Y = (y + 0.5) / size;
        const u = X * ct + Y * st, v = -X * st + Y * ct;
        const t = v * freq + 1.1 * noise.fbm(u * 1.3 + ox, v * 3 + oy, 3) + phase;
        const band = 0.5 + 0.5 * Math.sin(TAU * t);
        const late = Math.pow(band, 6);
        const early = 0.25 * (1 - band);
        const pores = noise.at(u * size * 0.08 + ox, v * size * 0.9 + oy);
        const k = clamp01(0.8 * late + early + 0.22 * smoothstep(0.6, 0.95, pores));
        const L = light[y * size + x];
        set3(
          rgb,
          y * size + x,
          (lightC[0] + (darkC[0] - lightC[0]) * k) * L,
          (lightC[1] + (darkC[1] - lightC[1]) * k) * L,
          (lightC[2] + (darkC[2] - lightC[2]) * k) * L,
        );
      }
    }
    return {
      rgb,
      noiseSigma: 2.5,
      defect(type, drng) {
        const layer = newLayer(size);
        const dn = new ValueNoise(drng);
        if (type === 'scratch') {
          const [p0, p1, p2] = randomCurve(drng, drng.uniform(0.25, 0.75) * size, drng.uniform(0.25, 0.75) * size, drng.uniform(0.3, 0.55) * size, 0.15);
          const w = Math.max(1.4, size * 0.009);
          forStroke(size, p0, p1, p2, w, (i, t) => {
            layer.alpha[i] = Math.min(1, 0.5 + t);
            set3(layer.target, i, 246, 226, 196);
          });
        } else if (type === 'hole') {
          // a cluster of 1–3 worm holes: dark pits with a darker core
          const n = 1 + drng.int(3);
          const cx = drng.uniform(0.2, 0.8) * size, cy = drng.uniform(0.2, 0.8) * size;
          for (let h = 0; h < n; h++) {
            const r = drng.uniform(0.018, 0.035) * size;
            const hx = cx + drng.uniform(-0.06, 0.06) * size, hy = cy + drng.uniform(-0.06, 0.06) * size;
            forBlob(size, dn, hx, hy, r, drng.uniform(0.8, 1.25), drng.uniform(0, Math.PI), 0.15, (i, depth) => {
              layer.alpha[i] = 1;
              const k = 70 - 55 * clamp01(depth * 1.6);
              set3(layer.target, i, k * 1.15, k * 0.85, k * 0.6);
            });
          }
        } else if (type === 'stain') {
          // water stain: grey-blue darkening with a darker tide line at its rim
          const b = blobSite(drng, size, 0.06, 0.12);
          forBlob(size, dn, b.cx, b.cy, b.r, b.aspect, b.angle, 0.3, (i, depth) => {
            layer.alpha[i] = depth < 0.12 ? 0.95 : 0.75;
            set3(layer.target, i, rgb[3 * i] * 0.42, rgb[3 * i + 1] * 0.42, rgb[3 * i + 2] * 0.5);
          });
        } else throw new Error(`wood has no defect type '${type}'`);
        return layer;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------- objects

/** A metal bottle top seen from above: knurled rim, brushed plate, pressed ring, a printed mark. */
export const disk: SyntheticClass = {
  name: 'disk',
  kind: 'object',
  defects: ['scratch', 'missing_piece', 'stain'],
  render(size, rng, pose) {
    const noise = new ValueNoise(rng);
    const cx = objectCentre(rng, size, 0.04, pose), cy = objectCentre(rng, size, 0.04, pose);
    const R = size * 0.34 * rng.uniform(0.97, 1.03);
    const rot = objectRotation(rng, 0, pose);
    const lightDir = -0.75 * Math.PI + rng.uniform(-0.5, 0.5);
    const gain = rng.uniform(0.9, 1.1);
    const metal = [188, 190, 196];
    const bgL = lighting(rng, noise, 0.15, size);
    const hx = cx + Math.cos(lightDir) * R * 0.35, hy = cy + Math.sin(lightDir) * R * 0.35;
    const rgb = new Float32Array(size * size * 3);
    const bg = new Float32Array(size * size * 3);
    const cover = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const bgk = 40 * bgL[i];
        set3(bg, i, bgk, bgk, bgk * 1.06);
        const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        const r = Math.sqrt(dx * dx + dy * dy);
        const c = clamp01(R - r + 0.5);
        cover[i] = c;
        if (c <= 0) {
          set3(rgb, i, bg[3 * i], bg[3 * i + 1], bg[3 * i + 2]);
          continue;
        }
        const aw = Math.atan2(dy, dx);
        const a = aw - rot;
        const rr = r / R;
        let k: number;
        if (rr > 0.86) {
          // knurled rim, lit from lightDir
          const bevel = 1 + 0.45 * Math.cos(aw - lightDir) * smoothstep(0.86, 1, rr);
          k = (0.72 + 0.22 * Math.cos(a * 72)) * bevel;
        } else {
          k = 0.9 + 0.05 * Math.sin(r * 1.7) + 0.08 * (noise.at(r * 0.6, a * 40) - 0.5);
          // pressed ring
          k *= 1 - 0.45 * Math.exp(-Math.pow((rr - 0.62) / 0.02, 2)) + 0.2 * Math.exp(-Math.pow((rr - 0.655) / 0.02, 2));
        }
        const spec = 0.35 * Math.exp(-((x + 0.5 - hx) ** 2 + (y + 0.5 - hy) ** 2) / (2 * (0.3 * R) ** 2));
        const m = (k + spec) * gain;
        let c0 = metal[0] * m, c1 = metal[1] * m, c2 = metal[2] * m;
        // printed mark: a blue arc segment and a bar, rotating with the cap
        const am = ((a % TAU) + TAU) % TAU;
        if ((rr > 0.3 && rr < 0.44 && am < 1.1) || (Math.abs(rr * Math.sin(am - 3.6)) < 0.05 && rr < 0.5 && Math.cos(am - 3.6) > 0)) {
          c0 = 42 * gain;
          c1 = 62 * gain;
          c2 = 128 * gain;
        }
        set3(rgb, i, bg[3 * i] * (1 - c) + c0 * c, bg[3 * i + 1] * (1 - c) + c1 * c, bg[3 * i + 2] * (1 - c) + c2 * c);
      }
    }
    return {
      rgb,
      noiseSigma: 2.5,
      defect(type, drng) {
        const layer = newLayer(size);
        const dn = new ValueNoise(drng);
        if (type === 'scratch') {
          const a = drng.uniform(0, TAU), rad = drng.uniform(0, 0.4) * R;
          const [p0, p1, p2] = randomCurve(drng, cx + Math.cos(a) * rad, cy + Math.sin(a) * rad, drng.uniform(0.5, 0.9) * R, 0.2);
          const w = Math.max(1.3, size * 0.007);
          forStroke(size, p0, p1, p2, w, (i, t) => {
            if (cover[i] < 1) return;
            layer.alpha[i] = Math.min(1, 0.55 + t);
            set3(layer.target, i, 252, 252, 250);
          });
        } else if (type === 'missing_piece') {
          // a bite out of the rim: the background shows where the cap should be
          const a = drng.uniform(0, TAU), b = drng.uniform(0.14, 0.24) * R;
          const bx = cx + Math.cos(a) * R, by = cy + Math.sin(a) * R;
          forBlob(size, dn, bx, by, b, drng.uniform(0.8, 1.25), drng.uniform(0, Math.PI), 0.2, (i) => {
            if (cover[i] <= 0) return;
            layer.alpha[i] = 1;
            set3(layer.target, i, bg[3 * i], bg[3 * i + 1], bg[3 * i + 2]);
          });
        } else if (type === 'stain') {
          // rust spot on the plate
          const a = drng.uniform(0, TAU), rad = drng.uniform(0, 0.55) * R;
          forBlob(size, dn, cx + Math.cos(a) * rad, cy + Math.sin(a) * rad, drng.uniform(0.1, 0.2) * R, drng.uniform(0.7, 1.4), drng.uniform(0, Math.PI), 0.35, (i, depth) => {
            if (cover[i] < 1) return;
            layer.alpha[i] = Math.min(0.92, 0.5 + depth * 1.5);
            const g = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3;
            const mottle = 0.8 + 0.4 * dn.at((i % size) * 0.25, Math.floor(i / size) * 0.25);
            set3(layer.target, i, (0.55 * g + 40) * mottle, (0.3 * g + 12) * mottle, 0.12 * g * mottle);
          });
        } else throw new Error(`disk has no defect type '${type}'`);
        return layer;
      },
    };
  },
};

/**
 * A screw lying on a diffusely lit table (no cast shadow, so a missing part leaves no trace outside its
 * mask): head with a slot, threaded shaft, tapered tip. Any orientation, or within `maxRotation` of a diagonal pose.
 */
export const screw: SyntheticClass = {
  name: 'screw',
  kind: 'object',
  defects: ['missing_tip', 'scratch', 'thread_damage'],
  render(size, rng, pose) {
    const noise = new ValueNoise(rng);
    const cx = objectCentre(rng, size, 0.06, pose), cy = objectCentre(rng, size, 0.06, pose);
    const rot = objectRotation(rng, -Math.PI / 4, pose); // reference: head at the lower left, tip to the upper right
    const gain = rng.uniform(0.9, 1.1);
    const bgL = lighting(rng, noise, 0.12, size);
    const s = size;
    const headA = -0.34 * s, headB = -0.25 * s, tipA = 0.24 * s, tipB = 0.31 * s;
    const headW = 0.085 * s, shaftW = 0.042 * s, pitch = 0.026 * s;
    const ca = Math.cos(rot), sa = Math.sin(rot);
    /** signed distance (pixels, positive inside) to the screw outline in local coords */
    const sdf = (p: number, q: number): number => {
      const aq = Math.abs(q);
      if (p < headA - 0.05 * s || p > tipB + 0.05 * s || aq > headW + 0.05 * s) return -0.05 * s; // far outside
      // head: rounded rectangle
      const hdx = Math.max(headA - p, p - headB), hdy = aq - headW;
      const head = -(Math.max(hdx, hdy) > 0 ? Math.hypot(Math.max(hdx, 0), Math.max(hdy, 0)) : Math.max(hdx, hdy)) + 0;
      // shaft with linear taper over [tipA, tipB]
      const w = p < tipA ? shaftW : shaftW * (1 - 0.8 * clamp01((p - tipA) / (tipB - tipA)));
      const sdx = Math.max(headB - 1 - p, p - tipB), sdy = aq - w;
      const shaft = -(Math.max(sdx, sdy) > 0 ? Math.hypot(Math.max(sdx, 0), Math.max(sdy, 0)) : Math.max(sdx, sdy));
      return Math.max(head, shaft);
    };
    const rgb = new Float32Array(s * s * 3);
    const bg = new Float32Array(s * s * 3);
    const cover = new Float32Array(s * s);
    const P = new Float32Array(s * s), Q = new Float32Array(s * s);
    const metalAt = (p: number, q: number, threads: boolean): number => {
      if (p <= headB) {
        // head: flat top with a bevel and a slot
        const edge = 1 - 0.35 * smoothstep(0.7, 1, Math.abs(q) / headW);
        const slot = Math.abs(q) < 0.012 * s && p > headA + 0.01 * s ? 0.45 : 1;
        return 0.95 * edge * slot;
      }
      const w = p < tipA ? shaftW : shaftW * (1 - 0.8 * clamp01((p - tipA) / (tipB - tipA)));
      const qn = clamp01(Math.abs(q) / Math.max(w, 1e-3));
      const cyl = Math.sqrt(1 - 0.85 * qn * qn) + 0.5 * Math.exp(-Math.pow(q / w + 0.35, 2) / 0.03);
      const thr = threads ? 0.55 + 0.45 * Math.abs(Math.sin((Math.PI * (p - 0.3 * q)) / pitch)) : 0.85;
      return cyl * thr * 0.85;
    };
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const i = y * s + x;
        const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        const p = dx * ca + dy * sa, q = -dx * sa + dy * ca;
        P[i] = p;
        Q[i] = q;
        const bgk = 206 * bgL[i];
        set3(bg, i, bgk, bgk, bgk * 0.97);
        const c = clamp01(sdf(p, q) + 0.5);
        cover[i] = c;
        if (c <= 0) {
          set3(rgb, i, bg[3 * i], bg[3 * i + 1], bg[3 * i + 2]);
          continue;
        }
        const m = metalAt(p, q, true) * gain * (0.95 + 0.1 * noise.at(p * 0.3, q * 0.3));
        set3(rgb, i, bg[3 * i] * (1 - c) + 150 * m * c, bg[3 * i + 1] * (1 - c) + 152 * m * c, bg[3 * i + 2] * (1 - c) + 160 * m * c);
      }
    }
    return {
      rgb,
      noiseSigma: 2.5,
      defect(type, drng) {
        const layer = newLayer(s);
        if (type === 'missing_tip') {
          // the tip is broken off: everything of the screw beyond the cut becomes table
          const cut = drng.uniform(0.12, 0.2) * s;
          const slant = drng.uniform(-0.8, 0.8);
          for (let i = 0; i < s * s; i++) {
            if (cover[i] > 0 && P[i] > tipB - cut + slant * Q[i]) {
              layer.alpha[i] = 1;
              set3(layer.target, i, bg[3 * i], bg[3 * i + 1], bg[3 * i + 2]);
            }
          }
        } else if (type === 'scratch') {
          // a bright scrape on the head or the shaft
          const onHead = drng.next() < 0.5;
          const p = onHead ? drng.uniform(headA + 0.02 * s, headB - 0.02 * s) : drng.uniform(headB + 0.05 * s, tipA - 0.05 * s);
          const len = onHead ? drng.uniform(1.2, 1.8) * headW : drng.uniform(0.12, 0.2) * s;
          const ang = onHead ? Math.PI / 2 + drng.uniform(-0.5, 0.5) : drng.uniform(-0.35, 0.35);
          const lp0 = [p - (Math.cos(ang) * len) / 2, -(Math.sin(ang) * len) / 2];
          const lp2 = [p + (Math.cos(ang) * len) / 2, (Math.sin(ang) * len) / 2];
          const toImg = (lp: number[]): [number, number] => [cx + lp[0] * ca - lp[1] * sa, cy + lp[0] * sa + lp[1] * ca];
          const a0 = toImg(lp0), a2 = toImg(lp2);
          const mid: [number, number] = [(a0[0] + a2[0]) / 2 + drng.uniform(-2, 2), (a0[1] + a2[1]) / 2 + drng.uniform(-2, 2)];
          forStroke(s, a0, mid, a2, Math.max(1.3, s * 0.007), (i, t) => {
            if (cover[i] < 1) return;
            layer.alpha[i] = Math.min(1, 0.6 + t);
            set3(layer.target, i, 250, 250, 246);
          });
        } else if (type === 'thread_damage') {
          // a section of flattened, shiny threads
          const len = drng.uniform(0.07, 0.12) * s;
          const p0 = drng.uniform(headB + 0.02 * s, tipA - len);
          for (let i = 0; i < s * s; i++) {
            if (cover[i] >= 1 && P[i] > p0 && P[i] < p0 + len) {
              layer.alpha[i] = 1;
              const m = metalAt(P[i], Q[i], false) * gain * 1.25;
              set3(layer.target, i, 150 * m, 152 * m, 160 * m);
            }
          }
        } else throw new Error(`screw has no defect type '${type}'`);
        return layer;
      },
    };
  },
};

export const SYNTHETIC_CLASSES: Record<string, SyntheticClass> = { fabric, wood, disk, screw };
