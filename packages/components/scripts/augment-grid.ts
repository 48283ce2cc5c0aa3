// Picture of the augmentation primitives: packages/components/docs/augmentations.png.
// Rows: source images (2 MVTec-AD bottle training images when ../shared/data/mvtec-ad is present, then
// synthetic ones); columns: each primitive's image and, where defined, its mask (white = changed region).
// Usage (repository root): npx ts-node -T packages/components/scripts/augment-grid.ts [seed]
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng, sharedDir, writeFileAtomic } from '@unified-ad/core';
import {
  type ImageHWC,
  colorJitter,
  cutPasteNormal,
  cutPasteScar,
  draemAugment,
  fcddConfetti,
  perlinNoise,
  proceduralTexture,
  rotateImage,
} from '../src';

const SIZE = 256;
const TILE = 150;
const GAP = 6;
const LABEL_W = 128;
const ZOOM = 64; // side of the crop around the scar
const HEAD_H = 58;
const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

async function loadPng(file: string): Promise<ImageHWC> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').resize(SIZE, SIZE, { kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
  return { data: Float32Array.from(data), height: info.height, width: info.width, channels: info.channels };
}

/** A synthetic object: a shaded disc with a rim on a noisy background (bottle-like, seen from above). */
function syntheticDisc(rng: Rng): ImageHWC {
  const img: ImageHWC = { data: new Float32Array(SIZE * SIZE * 3), height: SIZE, width: SIZE, channels: 3 };
  const noise = perlinNoise(SIZE, SIZE, 16, 16, rng);
  const c = SIZE / 2;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const r = Math.hypot(y - c, x - c) / c;
      const p = y * SIZE + x;
      const n = 12 * noise[p];
      const rgb = r < 0.55 ? [40 + 60 * r, 90 + 80 * r, 60 + 40 * r] : r < 0.7 ? [150, 170, 150] : [30, 30, 35];
      for (let k = 0; k < 3; k++) img.data[p * 3 + k] = Math.min(255, Math.max(0, rgb[k] + n));
    }
  return img;
}

/** A synthetic texture: a woven grid (carpet / grid-like MVTec textures). */
function syntheticWeave(rng: Rng): ImageHWC {
  const img: ImageHWC = { data: new Float32Array(SIZE * SIZE * 3), height: SIZE, width: SIZE, channels: 3 };
  const noise = perlinNoise(SIZE, SIZE, 32, 32, rng);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const p = y * SIZE + x;
      const weave = 0.5 + 0.25 * Math.sin((2 * Math.PI * x) / 12) + 0.25 * Math.sin((2 * Math.PI * y) / 12);
      const v = 70 + 120 * weave + 20 * noise[p];
      img.data[p * 3] = Math.min(255, Math.max(0, v * 0.95));
      img.data[p * 3 + 1] = Math.min(255, Math.max(0, v * 0.8));
      img.data[p * 3 + 2] = Math.min(255, Math.max(0, v * 0.6));
    }
  return img;
}

function toRgbBytes(img: ImageHWC): Buffer {
  const out = Buffer.alloc(img.height * img.width * 3);
  for (let p = 0; p < img.height * img.width; p++)
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round(Math.min(255, Math.max(0, img.data[p * img.channels + (img.channels >= 3 ? k : 0)])));
  return out;
}

function maskImage(mask: Float32Array, h: number, w: number): ImageHWC {
  const data = new Float32Array(h * w * 3);
  for (let p = 0; p < h * w; p++) data.fill(mask[p] ? 255 : 0, p * 3, p * 3 + 3);
  return { data, height: h, width: w, channels: 3 };
}

async function tile(img: ImageHWC, nearest = false): Promise<Buffer> {
  return sharp(toRgbBytes(img), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(TILE, TILE, { kernel: nearest ? 'nearest' : 'lanczos3' })
    .png()
    .toBuffer();
}

function crop(img: ImageHWC, top: number, left: number): ImageHWC {
  const c = img.channels;
  const data = new Float32Array(ZOOM * ZOOM * c);
  for (let y = 0; y < ZOOM; y++) data.set(img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + ZOOM) * c), y * ZOOM * c);
  return { data, height: ZOOM, width: ZOOM, channels: c };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function main(): Promise<void> {
  const seed = Number(process.argv[2] ?? 3);
  const rng = new Rng(seed);
  const rows: { name: string; img: ImageHWC }[] = [];
  const shared = sharedDir();
  const bottleDir = shared ? path.join(shared, 'data', 'mvtec-ad', 'bottle', 'train', 'good') : null;
  if (bottleDir && fs.existsSync(bottleDir)) {
    const files = fs.readdirSync(bottleDir).filter((f) => f.endsWith('.png')).sort();
    for (const f of files.slice(0, 2)) rows.push({ name: `bottle ${f.replace('.png', '')}`, img: await loadPng(path.join(bottleDir, f)) });
  }
  rows.push({ name: 'synthetic disc', img: syntheticDisc(rng.fork()) });
  rows.push({ name: 'synthetic weave', img: syntheticWeave(rng.fork()) });

  const columns = [
    'input',
    'DRAEM source¹',
    'DRAEM',
    'mask',
    'DRAEM, other-img src²',
    'mask',
    'CutPaste normal',
    'mask',
    `scar (${ZOOM}² crop)⁴`,
    'mask (crop)',
    'FCDD confetti',
    'mask',
    'ColorJitter³',
    'rotate 30°',
  ];
  const W = LABEL_W + columns.length * (TILE + GAP);
  const H = HEAD_H + rows.length * (TILE + GAP) + 40;
  const composites: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  texts.push(`<text x="${W / 2}" y="22" font-size="18" font-weight="bold" text-anchor="middle">@unified-ad/components augmentation primitives (seed ${seed}, ${SIZE}×${SIZE})</text>`);
  columns.forEach((c, j) => texts.push(`<text x="${LABEL_W + j * (TILE + GAP) + TILE / 2}" y="${HEAD_H - 10}" font-size="13" text-anchor="middle">${esc(c)}</text>`));

  for (let i = 0; i < rows.length; i++) {
    const { name, img } = rows[i];
    const r = rng.fork();
    // a source of different content: two rows further on (a synthetic image for the bottles and vice versa)
    const other = rows[(i + 2) % rows.length].img;
    // anomalous draws with a visible mask (DRAEM may draw an empty or tiny mask; FCDD a clean sample)
    let d = draemAugment(img, r, { cleanProbability: 0 });
    while (d.mask.reduce((s, v) => s + v, 0) < 0.02 * SIZE * SIZE) d = draemAugment(img, r, { cleanProbability: 0 });
    let d2 = draemAugment(img, r, { cleanProbability: 0, source: other });
    while (d2.mask.reduce((s, v) => s + v, 0) < 0.02 * SIZE * SIZE) d2 = draemAugment(img, r, { cleanProbability: 0, source: other });
    const cp = cutPasteNormal(img, r);
    const sc = cutPasteScar(img, r);
    const fc = fcddConfetti(img, r, { cleanProbability: 0 });
    const cj = colorJitter(img, r, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }).image;
    const rot = rotateImage(img, 30);
    const m = (a: Float32Array) => maskImage(a, SIZE, SIZE);
    // the scar is 2–16 × 10–25 px: show a crop centred on it
    let [y0, y1, x0, x1] = [SIZE, 0, SIZE, 0];
    for (let p = 0; p < sc.mask.length; p++) {
      if (!sc.mask[p]) continue;
      const y = Math.floor(p / SIZE);
      const x = p % SIZE;
      [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y), Math.min(x0, x), Math.max(x1, x)];
    }
    const scarTop = Math.min(SIZE - ZOOM, Math.max(0, Math.round((y0 + y1) / 2 - ZOOM / 2)));
    const scarLeft = Math.min(SIZE - ZOOM, Math.max(0, Math.round((x0 + x1) / 2 - ZOOM / 2)));
    const tiles = [
      await tile(img),
      await tile(d.source ?? proceduralTexture(SIZE, SIZE, 3, r)),
      await tile(d.image),
      await tile(m(d.mask), true),
      await tile(d2.image),
      await tile(m(d2.mask), true),
      await tile(cp.image),
      await tile(m(cp.mask), true),
      await tile(crop(sc.image, scarTop, scarLeft), true),
      await tile(crop(m(sc.mask), scarTop, scarLeft), true),
      await tile(fc.image),
      await tile(m(fc.mask), true),
      await tile(cj),
      await tile(rot),
    ];
    const top = HEAD_H + i * (TILE + GAP);
    tiles.forEach((t, j) => composites.push({ input: t, left: LABEL_W + j * (TILE + GAP), top }));
    texts.push(`<text x="${LABEL_W - 8}" y="${top + TILE / 2}" font-size="13" text-anchor="end">${esc(name)}</text>`);
    texts.push(`<text x="${LABEL_W - 8}" y="${top + TILE / 2 + 16}" font-size="10" text-anchor="end" fill="#555">DRAEM β ${d.beta!.toFixed(2)} / ${d2.beta!.toFixed(2)}</text>`);
  }
  texts.push(
    `<text x="${LABEL_W}" y="${H - 22}" font-size="11" fill="#444">¹ procedural texture after DRAEM's 3 random ops (stands in for DTD)   ² anomaly source = the image two rows down   ³ ColorJitter(0.4, 0.4, 0.4, 0.1) — CutPaste's patches use 0.1   ⁴ the scar (2–16 × 10–25 px) is small at this scale: a 64×64 crop around it</text>`,
  );
  texts.push(`<text x="${LABEL_W}" y="${H - 8}" font-size="11" fill="#444">masks: white = region changed by the augmentation (DRAEM: thresholded Perlin noise; CutPaste: pasted pixels; FCDD: pixels changed by the smoothed confetti)</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="${FONT}" fill="#111">${texts.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png({ compressionLevel: 9, palette: true, quality: 90, effort: 8 }) // quantised: a few hundred kB instead of ~1 MB
    .toBuffer();
  const file = path.resolve(__dirname, '..', 'docs', 'augmentations.png');
  writeFileAtomic(file, png);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${W}×${H}, ${rows.length} rows)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
