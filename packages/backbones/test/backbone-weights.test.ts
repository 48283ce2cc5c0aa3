// Weight resolution order (explicit → env → cache → ../shared → download → UserError) and the
// checksum-verified download, against a local HTTP server on 127.0.0.1.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '@unified-ad/core';
import { MOBILENET_V2_WEIGHTS, resolveWeights, weightsCachePath, weightsUrl, type WeightsSpec } from '../src';

const good = Buffer.from('pretend these are weights\n'.repeat(1000));
const goodSha = crypto.createHash('sha256').update(good).digest('hex');
const spec: WeightsSpec = {
  fileName: 'fake_model.tflite',
  sha256: goodSha,
  baseUrl: 'http://127.0.0.1:9/never-used',
  envVar: 'UNIFIED_AD_TEST_FAKE_WEIGHTS',
  sharedDir: ['weights', 'fake'],
  description: 'fake weights',
};

let server: http.Server;
let base = '';
const served: Record<string, Buffer> = {};
const requests: string[] = [];
let tmp = '';
const saved: Record<string, string | undefined> = {};
const ENV = ['UNIFIED_AD_CACHE', 'UNIFIED_AD_SHARED', 'UNIFIED_AD_WEIGHTS_BASE_URL', 'UNIFIED_AD_OFFLINE', spec.envVar];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = served[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    // two chunks, to exercise the streaming hash
    res.write(body.subarray(0, 100));
    setTimeout(() => res.end(body.subarray(100)), 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-weights-'));
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  process.env.UNIFIED_AD_CACHE = path.join(tmp, 'cache');
  process.env.UNIFIED_AD_SHARED = path.join(tmp, 'shared');
  process.env.UNIFIED_AD_WEIGHTS_BASE_URL = `${base}/mirror`;
  for (const k of Object.keys(served)) delete served[k];
  requests.length = 0;
});
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const put = (file: string, data: Buffer) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return file;
};
const cacheFolder = () => path.join(tmp, 'cache', 'weights');

describe('weights resolution', () => {
  it('the URL convention: <base>/<file name>, base overridable by UNIFIED_AD_WEIGHTS_BASE_URL', () => {
    delete process.env.UNIFIED_AD_WEIGHTS_BASE_URL;
    expect(weightsUrl(MOBILENET_V2_WEIGHTS)).toBe(
      'https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/tf2_mobilenet_v2_1.0_224_ptq.tflite',
    );
    process.env.UNIFIED_AD_WEIGHTS_BASE_URL = 'http://mirror.example/w/';
    expect(weightsUrl(MOBILENET_V2_WEIGHTS)).toBe('http://mirror.example/w/tf2_mobilenet_v2_1.0_224_ptq.tflite');
    expect(MOBILENET_V2_WEIGHTS.sha256).toBe('5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c');
  });

  it('order: explicit path, then the environment variable, then the cache, then ../shared', async () => {
    const other = Buffer.from('another model');
    const explicit = put(path.join(tmp, 'mine', 'model.tflite'), other);
    const envFile = put(path.join(tmp, 'env', 'model.tflite'), other);
    const cached = put(weightsCachePath(spec), good);
    const shared = put(path.join(tmp, 'shared', 'weights', 'fake', spec.fileName), good);
    process.env[spec.envVar] = envFile;

    const a = await resolveWeights(spec, { path: explicit });
    expect(a).toMatchObject({ path: explicit, source: 'explicit' });
    // an explicit or env file is used as given; its hash is recorded (cache keys depend on it)
    expect(a.sha256).toBe(crypto.createHash('sha256').update(other).digest('hex'));
    expect(await resolveWeights(spec)).toMatchObject({ path: envFile, source: 'env' });
    delete process.env[spec.envVar];
    expect(await resolveWeights(spec)).toMatchObject({ path: cached, source: 'cache', sha256: goodSha });
    fs.rmSync(cached);
    expect(await resolveWeights(spec)).toMatchObject({ path: shared, source: 'shared', sha256: goodSha });
    expect(requests).toEqual([]);
  });

  it('missing explicit / env files are UserErrors naming the path', async () => {
    await expect(resolveWeights(spec, { path: path.join(tmp, 'nope.tflite') })).rejects.toThrow(/nope\.tflite/);
    process.env[spec.envVar] = path.join(tmp, 'gone.tflite');
    await expect(resolveWeights(spec)).rejects.toThrow(/UNIFIED_AD_TEST_FAKE_WEIGHTS.*gone\.tflite/);
  });

  it('downloads into the cache when nothing is local, verifying sha256; the next call uses the cache', async () => {
    served[`/mirror/${spec.fileName}`] = good;
    const r = await resolveWeights(spec);
    expect(r).toMatchObject({ source: 'download', path: weightsCachePath(spec), sha256: goodSha });
    expect(fs.readFileSync(r.path).equals(good)).toBe(true);
    expect(fs.readdirSync(cacheFolder())).toEqual([spec.fileName]);
    expect(await resolveWeights(spec)).toMatchObject({ source: 'cache' });
    expect(requests).toEqual([`/mirror/${spec.fileName}`]);
  });

  it('a checksum mismatch fails with a UserError and leaves no file in the cache', async () => {
    served[`/mirror/${spec.fileName}`] = Buffer.from('tampered');
    const err = await resolveWeights(spec).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/checksum mismatch/);
    // it says where to put the file
    expect(err.message).toContain(weightsCachePath(spec));
    expect(err.message).toContain(spec.envVar);
    expect(fs.existsSync(cacheFolder()) ? fs.readdirSync(cacheFolder()) : []).toEqual([]);
  });

  it('an explicit or env file named like the known weights must have their sha256; sha256: null opts out', async () => {
    const flipped = Buffer.from(good);
    flipped[10] ^= 0xff;
    const badSha = crypto.createHash('sha256').update(flipped).digest('hex');
    const copy = put(path.join(tmp, 'mine', spec.fileName), flipped);
    const err = await resolveWeights(spec, { path: copy }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    // one line naming the file, the expected and the found hash
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message).toContain(copy);
    expect(err.message).toContain(`expected ${goodSha}`);
    expect(err.message).toContain(`found ${badSha}`);
    expect(err.message).toContain('backbone.sha256: null');
    process.env[spec.envVar] = copy;
    await expect(resolveWeights(spec)).rejects.toThrow(new RegExp(`UNIFIED_AD_TEST_FAKE_WEIGHTS.*sha256 mismatch: expected ${goodSha}, found ${badSha}`));
    // opt-out: your own weights under the known name are used, their hash recorded
    expect(await resolveWeights(spec, { sha256: null })).toMatchObject({ path: copy, source: 'env', sha256: badSha });
    delete process.env[spec.envVar];
    expect(await resolveWeights(spec, { path: copy, sha256: null })).toMatchObject({ source: 'explicit', sha256: badSha });
    // an explicit expected hash is enforced whatever the name; a malformed one is an error
    expect(await resolveWeights(spec, { path: copy, sha256: badSha })).toMatchObject({ sha256: badSha });
    await expect(resolveWeights(spec, { path: copy, sha256: '0'.repeat(64) })).rejects.toThrow(`expected ${'0'.repeat(64)}, found ${badSha}`);
    await expect(resolveWeights(spec, { path: copy, sha256: 'abc' })).rejects.toThrow(/sha256 'abc' is not 64 hex digits/);
    // the right bytes under the known name pass
    const goodCopy = put(path.join(tmp, 'ok', spec.fileName), good);
    expect(await resolveWeights(spec, { path: goodCopy })).toMatchObject({ source: 'explicit', sha256: goodSha });
  });

  it('a wrong-sha256 copy in the cache, with no download possible, is a checksum mismatch naming it (not "not found")', async () => {
    const cached = put(weightsCachePath(spec), Buffer.from('half a file'));
    const found = crypto.createHash('sha256').update('half a file').digest('hex');
    process.env.UNIFIED_AD_OFFLINE = '1';
    const err = await resolveWeights(spec).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).not.toMatch(/not found/);
    expect(err.message).toContain(`${cached}: sha256 mismatch: expected ${goodSha}, found ${found}`);
    expect(err.message).toContain('downloads are off');
    delete process.env.UNIFIED_AD_OFFLINE;
    // a download that fails (404) says the same, with the download's reason
    await expect(resolveWeights(spec)).rejects.toThrow(/sha256 mismatch.*HTTP 404/);
    // the shared copy is checked too
    fs.rmSync(cached);
    const shared = put(path.join(tmp, 'shared', 'weights', 'fake', spec.fileName), Buffer.from('half a file'));
    await expect(resolveWeights(spec, { download: false })).rejects.toThrow(`${shared}: sha256 mismatch`);
  });

  it('a corrupted cache copy is ignored and replaced by a verified download', async () => {
    put(weightsCachePath(spec), Buffer.from('half a file'));
    served[`/mirror/${spec.fileName}`] = good;
    expect(await resolveWeights(spec)).toMatchObject({ source: 'download', sha256: goodSha });
    expect(fs.readFileSync(weightsCachePath(spec)).equals(good)).toBe(true);
  });

  it('HTTP errors and offline mode end in a UserError saying where to put the file', async () => {
    await expect(resolveWeights(spec)).rejects.toThrow(/HTTP 404.*Put fake_model\.tflite/);
    process.env.UNIFIED_AD_OFFLINE = '1';
    await expect(resolveWeights(spec)).rejects.toThrow(/downloads are off/);
    delete process.env.UNIFIED_AD_OFFLINE;
    await expect(resolveWeights(spec, { download: false })).rejects.toThrow(UserError);
    expect(fs.existsSync(cacheFolder()) ? fs.readdirSync(cacheFolder()) : []).toEqual([]);
  });
});
