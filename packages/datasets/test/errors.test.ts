// Bad input: each case is one clear, one-line UserError naming the path, or (onError: 'skip') a skipped
// file with one warning and a count.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadMvtec, loadMagneticTile, loadManifest, loadDataset } from '../src';
import { expectUserError, makeTinyMvtec, tempDir, truncateFile, writeMaskPng, writeRgbPng } from './helpers';

let root: string;
let cat: string;
beforeEach(async () => {
  root = tempDir('bad');
  cat = await makeTinyMvtec(root, 'widget');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('missing folders', () => {
  it('missing root', async () => {
    const p = path.join(root, 'nope');
    await expectUserError(loadMvtec(p), 'not found', p);
  });
  it('missing category', async () => {
    await expectUserError(loadMvtec(root, { categories: ['bottle'] }), "category 'bottle' not found", path.join(root, 'bottle'));
  });
  it('missing train/good', async () => {
    fs.rmSync(path.join(cat, 'train'), { recursive: true });
    fs.mkdirSync(path.join(cat, 'train'));
    await expectUserError(loadMvtec(root), 'not found', path.join(cat, 'train', 'good'));
  });
  it('missing test folder', async () => {
    fs.rmSync(path.join(cat, 'test'), { recursive: true });
    await expectUserError(loadMvtec(root), 'not found', path.join(cat, 'test'));
  });
  it('missing ground-truth mask of a defect image', async () => {
    const m = path.join(cat, 'ground_truth', 'crack', '000_mask.png');
    fs.rmSync(m);
    await expectUserError(loadMvtec(root), 'file not found', m);
  });
  it('root without categories', async () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await expectUserError(loadMvtec(empty), 'no MVTec AD categories', empty);
  });
});

describe('empty class', () => {
  it('train/good without images', async () => {
    const d = path.join(cat, 'train', 'good');
    for (const f of fs.readdirSync(d)) fs.rmSync(path.join(d, f));
    fs.writeFileSync(path.join(d, 'notes.txt'), 'not an image');
    await expectUserError(loadMvtec(root), "class 'widget' has no training images", d);
  });
  it('every training image skipped', async () => {
    const d = path.join(cat, 'train', 'good');
    for (const f of fs.readdirSync(d)) fs.writeFileSync(path.join(d, f), 'garbage');
    await expectUserError(loadMvtec(root, { onError: 'skip', warn: () => {} }), "class 'widget' has no training images", d);
  });
});

describe('unreadable image', () => {
  it('throws at load time naming the file; skip drops it with one counted warning', async () => {
    const bad = path.join(cat, 'train', 'good', '001.png');
    fs.writeFileSync(bad, 'this is not a PNG');
    await expectUserError(loadMvtec(root), 'not a readable image', bad);
    const warnings: string[] = [];
    const ds = await loadMvtec(root, { onError: 'skip', warn: (m) => warnings.push(m) });
    expect(ds.samples.map((s) => s.imagePath)).not.toContain(bad);
    expect(ds.samples).toHaveLength(5);
    expect(ds.skipped).toEqual([{ path: bad, reason: expect.stringContaining(bad) }]);
    expect(warnings.filter((w) => w.includes('skipped'))).toEqual([expect.stringContaining('skipped 1 of 6 images')]);
  });
  it('an empty (0-byte) file', async () => {
    const bad = path.join(cat, 'test', 'good', '000.png');
    fs.writeFileSync(bad, '');
    await expectUserError(loadMvtec(root), 'empty image file', bad);
  });
});

describe('truncated image', () => {
  it("header check passes; decoding names the file; check 'decode' and onError 'skip' catch it at load", async () => {
    const bad = path.join(cat, 'test', 'crack', '000.png');
    truncateFile(bad, 0.5);
    const ds = await loadMvtec(root, { warn: () => {} }); // header is intact
    const s = ds.samples.find((x) => x.imagePath === bad)!;
    await expectUserError(ds.loadImage(s, 16), 'cannot decode image', bad);
    await expectUserError(loadMvtec(root, { check: 'decode' }), 'cannot decode image', bad);
    const warnings: string[] = [];
    const skipped = await loadMvtec(root, { onError: 'skip', warn: (m) => warnings.push(m) });
    expect(skipped.samples.find((x) => x.imagePath === bad)).toBeUndefined();
    expect(skipped.skipped).toHaveLength(1);
    expect(warnings.some((w) => w.includes('skipped 1 of 6') && w.includes(bad))).toBe(true);
  });
  it('a truncated JPEG is caught too', async () => {
    const dir = path.join(root, 'mt');
    fs.mkdirSync(path.join(dir, 'MT_Free', 'Imgs'), { recursive: true });
    const sharp = (await import('sharp')).default;
    for (let i = 0; i < 5; i++) {
      await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10 * i, g: 90, b: 120 } } })
        .jpeg()
        .toFile(path.join(dir, 'MT_Free', 'Imgs', `n${i}.jpg`));
    }
    const bad = path.join(dir, 'MT_Free', 'Imgs', 'n2.jpg');
    truncateFile(bad, 0.6);
    await expectUserError(loadMagneticTile(dir, { check: 'decode' }), 'cannot decode image', bad);
  });
});

describe('mask size differs from its image', () => {
  it('names both sizes and the mask; skip drops the sample; loadMask checks too', async () => {
    const mask = path.join(cat, 'ground_truth', 'crack', '000_mask.png');
    await writeMaskPng(mask, 20, 20, [1, 1, 5, 5]);
    await expectUserError(loadMvtec(root), 'mask size 20x20 differs from image size 24x20', mask);
    const ds = await loadMvtec(root, { onError: 'skip', warn: () => {} });
    expect(ds.samples.map((s) => s.id)).not.toContain('widget/test/crack/000');
    expect(ds.skipped[0].reason).toContain(mask);
    // without load-time checks the mismatch surfaces in loadMask (labels from folders: no mask decoding)
    const lazy = await loadMvtec(root, { check: 'none', labelFrom: 'folder' });
    const s = lazy.samples.find((x) => x.id === 'widget/test/crack/000')!;
    await expectUserError(lazy.loadMask(s, 8), 'differs from image size', mask);
  });
});

describe('Magnetic Tile layout errors', () => {
  it('missing root, missing MT_Free, empty MT_Free', async () => {
    const mt = path.join(root, 'tile');
    await expectUserError(loadMagneticTile(mt), 'not found', mt);
    fs.mkdirSync(path.join(mt, 'MT_Blowhole', 'Imgs'), { recursive: true });
    await expectUserError(loadMagneticTile(mt), 'not found', path.join(mt, 'MT_Free', 'Imgs'));
    fs.mkdirSync(path.join(mt, 'MT_Free', 'Imgs'), { recursive: true });
    await expectUserError(loadMagneticTile(mt), "class 'magnetic_tile' has no training images", path.join(mt, 'MT_Free', 'Imgs'));
  });
  it('a defect image without its mask', async () => {
    const mt = path.join(root, 'tile');
    for (let i = 0; i < 5; i++) await writeRgbPng(path.join(mt, 'MT_Free', 'Imgs', `f${i}.png`), 10, 10, i);
    // the loader reads .jpg files; write JPEGs
    const sharp = (await import('sharp')).default;
    for (let i = 0; i < 5; i++) {
      await sharp(path.join(mt, 'MT_Free', 'Imgs', `f${i}.png`)).jpeg().toFile(path.join(mt, 'MT_Free', 'Imgs', `f${i}.jpg`));
    }
    fs.mkdirSync(path.join(mt, 'MT_Crack', 'Imgs'), { recursive: true });
    await sharp(path.join(mt, 'MT_Free', 'Imgs', 'f0.png')).jpeg().toFile(path.join(mt, 'MT_Crack', 'Imgs', 'c0.jpg'));
    const mask = path.join(mt, 'MT_Crack', 'Imgs', 'c0.png');
    await expectUserError(loadMagneticTile(mt), 'file not found', mask);
    await writeMaskPng(mask, 10, 10, [2, 2, 5, 5]);
    const ds = await loadMagneticTile(mt);
    expect(ds.samples.map((s) => `${s.split}/${s.defectType}/${s.label}`)).toEqual([
      'train/good/0',
      'train/good/0',
      'train/good/0',
      'train/good/0',
      'test/good/0',
      'test/Crack/1',
    ]);
  });
});

describe('manifest errors name the file and line', () => {
  const write = (name: string, text: string) => {
    const f = path.join(root, name);
    fs.writeFileSync(f, text);
    return f;
  };
  it('missing manifest, missing image, bad label, anomalous training row, unknown column, empty class', async () => {
    await expectUserError(loadManifest(path.join(root, 'none.csv')), 'manifest not found', path.join(root, 'none.csv'));
    const rel = 'widget/train/good/000.png';
    let f = write('m1.csv', `image,class,split,label\n${rel},w,train,0\nmissing.png,w,test,1\n`);
    await expectUserError(loadManifest(f), 'file not found', path.join(root, 'missing.png'));
    f = write('m2.csv', `image,class,split,label\n${rel},w,train,0\n${rel},w,test,maybe\n`);
    await expectUserError(loadManifest(f), `${f} line 3`, "label must be 0/1 or normal/anomalous, got 'maybe'");
    f = write('m3.csv', `image,class,split,label\n${rel},w,train,1\n`);
    await expectUserError(loadManifest(f), `${f} line 2`, 'training images must be normal');
    f = write('m4.csv', `image,class,split,colour\n${rel},w,train,red\n`);
    await expectUserError(loadManifest(f), `${f} line 2`, "unknown column 'colour'");
    f = write('m5.csv', `image,class,split,label\n${rel},w,train,0\n${rel},v,test,1\n`);
    await expectUserError(loadManifest(f), "class 'v' has no training images", f);
    f = write('m6.jsonl', `{"image":"${rel}","class":"w","split":"train"}\n{"image": 3}\n`);
    await expectUserError(loadManifest(f), `${f} line 2`, "'image' must be a string");
    f = write('m7.jsonl', `{"image":"${rel}","class":"w","split":"train"}\nnot json\n`);
    await expectUserError(loadManifest(f), `${f} line 2`, 'not valid JSON');
    f = write('m8.csv', `image,class,split\n${rel},w,validation\n`);
    await expectUserError(loadManifest(f), `${f} line 2`, "split must be 'train' or 'test'");
  });
});

describe('dataset spec validation', () => {
  it('names the key and the problem in one line', async () => {
    await expectUserError(loadDataset({ type: 'mvtec' }), 'dataset spec: root');
    await expectUserError(loadDataset({ type: 'cifar10', root: 'x', normalClasses: [0, 12] }), 'dataset spec: normalClasses.1');
    await expectUserError(loadDataset({ type: 'mvtec', root: 'x', colour: 'red' }), 'dataset spec', 'colour');
    await expectUserError(loadDataset({ type: 'imagenet', root: 'x' }), 'dataset spec: type');
    await expectUserError(loadDataset({ type: 'synthetic', classes: ['bottle'] }), 'dataset spec: classes.0');
    await expectUserError(loadDataset({ type: 'combined', parts: [{ type: 'mvtec' }] }), 'dataset spec: parts.0.root');
  });
});
