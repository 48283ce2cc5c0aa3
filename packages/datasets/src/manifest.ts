// Custom data without code: a manifest file (CSV with a header row, or JSONL) listing every image.
//
// Columns / keys (paths relative to the manifest's folder, or absolute):
//   image   (alias imagePath)   required  image file
//   class   (alias className)   required  class name
//   split                       required  'train' | 'test'
//   label                       test: required; train: optional (must be normal)
//                               0 | 1 | normal | good | anomalous | anomaly | defect
//   mask    (alias maskPath)    optional  ground-truth mask (positive where value > half of full scale)
//   defect  (alias defectType)  optional  defect type (default 'good' for normal, 'anomaly' otherwise)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { UserError, type Sample, type Split } from '@unified-ad/core';
import { assertClassesHaveTrainImages, checkSamples, type LoadOptions } from './checks';
import { FileDataset } from './file-dataset';

export interface ManifestOptions extends LoadOptions {
  /** 'csv' or 'jsonl' (default: from the extension; .jsonl / .ndjson / .json are JSONL) */
  format?: 'csv' | 'jsonl';
  /** dataset name (default 'manifest:<file name>') */
  name?: string;
}

/** One manifest row, as written by the user. */
export interface ManifestRow {
  image: string;
  class: string;
  split: Split;
  label?: 0 | 1 | string;
  mask?: string;
  defect?: string;
}

/**
 * Parses RFC 4180 CSV with csv-parse (quoted fields, "" escapes, CRLF / LF / CR, BOM; blank lines skipped,
 * whitespace around fields trimmed). Returns rows of fields with the line each row starts on. Malformed
 * input is a UserError naming the line ("line N: …"), without the file (the caller adds it).
 */
export function parseCsv(text: string): { fields: string[]; line: number }[] {
  let lastEnd = 0;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (r: string[], ctx: { lines: number }) => {
        lastEnd = ctx.lines;
        return r;
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { code?: string; lines?: number };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      // the quote opened on the first line after the last complete row that has a quote
      const lines = text.split(/\r\n|\n|\r/);
      let start = lastEnd + 1;
      while (start <= lines.length && !lines[start - 1].includes('"')) start++;
      throw new UserError(`unterminated quoted field starting on line ${Math.min(start, lines.length)}`);
    }
    const msg = err.message.split('\n')[0].replace(/\s+at line \d+.*$/, '');
    throw new UserError(err.lines ? `line ${err.lines}: ${msg}` : msg);
  }
  const breaks = (f: string) => (f.match(/\r\n|\n|\r/g) ?? []).length;
  return records.map(({ record, info }) => ({
    fields: record,
    // info.lines is where the row ends: a quoted field with line breaks makes it start earlier
    line: info.lines - record.reduce((n, f) => n + breaks(f), 0),
  }));
}

const ALIASES: Record<string, keyof ManifestRow> = {
  image: 'image',
  imagepath: 'image',
  class: 'class',
  classname: 'class',
  split: 'split',
  label: 'label',
  mask: 'mask',
  maskpath: 'mask',
  defect: 'defect',
  defecttype: 'defect',
};

const REQUIRED: (keyof ManifestRow)[] = ['image', 'class', 'split'];

function rawRows(file: string, format: 'csv' | 'jsonl'): { row: Record<string, unknown>; line: number }[] {
  const text = fs.readFileSync(file, 'utf8');
  const where = (line: number) => `${file} line ${line}`;
  if (format === 'jsonl') {
    const out: { row: Record<string, unknown>; line: number }[] = [];
    text.split(/\r?\n/).forEach((l, i) => {
      if (l.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch (e) {
        throw new UserError(`${where(i + 1)}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UserError(`${where(i + 1)}: expected a JSON object`);
      out.push({ row: v as Record<string, unknown>, line: i + 1 });
    });
    return out;
  }
  let rows: { fields: string[]; line: number }[];
  try {
    rows = parseCsv(text);
  } catch (e) {
    const m = (e as Error).message;
    throw new UserError(/^line \d+:/.test(m) ? `${file} ${m}` : `${file}: ${m}`);
  }
  if (rows.length === 0) throw new UserError(`manifest is empty: ${file}`);
  const header = rows[0].fields.map((h) => h.trim());
  const known = new Set(header.map((h) => ALIASES[h.toLowerCase()]).filter(Boolean));
  const missing = REQUIRED.filter((k) => !known.has(k));
  if (missing.length) {
    throw new UserError(
      `${where(rows[0].line)}: the header has no ${missing.map((k) => `'${k}'`).join(', ')} column${missing.length > 1 ? 's' : ''} ` +
        `(header: ${header.join(', ')}; required: ${REQUIRED.join(', ')}; optional: label, mask, defect)`,
    );
  }
  return rows.slice(1).map(({ fields, line }) => {
    if (fields.length !== header.length) throw new UserError(`${where(line)}: ${fields.length} fields, header has ${header.length}`);
    const row: Record<string, unknown> = {};
    header.forEach((h, k) => (row[h] = fields[k].trim()));
    return { row, line };
  });
}

function parseLabel(v: unknown): 0 | 1 | null {
  if (v === 0 || v === 1) return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === '0' || s === 'normal' || s === 'good') return 0;
    if (s === '1' || s === 'anomalous' || s === 'anomaly' || s === 'abnormal' || s === 'defect') return 1;
  }
  return null;
}

/** Reads and validates a manifest into samples (no image is opened). */
export function readManifest(file: string, format?: 'csv' | 'jsonl'): Sample[] {
  if (!fs.existsSync(file)) throw new UserError(`manifest not found: ${file}`);
  const fmt = format ?? (/\.(jsonl|ndjson|json)$/i.test(file) ? 'jsonl' : 'csv');
  const base = path.dirname(path.resolve(file));
  const rows = rawRows(file, fmt);
  if (rows.length === 0) throw new UserError(`manifest has no rows: ${file}`);
  const samples: Sample[] = [];
  const ids = new Set<string>();
  for (const { row, line } of rows) {
    const where = `${file} line ${line}`;
    const r: Partial<Record<keyof ManifestRow, unknown>> = {};
    for (const [k, v] of Object.entries(row)) {
      const key = ALIASES[k.toLowerCase()];
      if (!key) throw new UserError(`${where}: unknown column '${k}' (expected image, class, split, label, mask, defect)`);
      if (v !== '' && v !== null && v !== undefined) r[key] = v;
    }
    const str = (k: keyof ManifestRow): string | undefined => {
      const v = r[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new UserError(`${where}: '${k}' must be a string, got ${JSON.stringify(v)}`);
      return v;
    };
    const image = str('image');
    if (!image) throw new UserError(`${where}: missing 'image'`);
    const cls = str('class');
    if (!cls) throw new UserError(`${where}: missing 'class'`);
    const split = str('split');
    if (split === undefined) throw new UserError(`${where}: missing 'split' (train or test)`);
    if (split !== 'train' && split !== 'test') throw new UserError(`${where}: split must be 'train' or 'test', got '${split ?? ''}'`);
    let label: 0 | 1;
    if (r.label === undefined) {
      if (split === 'test') throw new UserError(`${where}: test rows need a label (0/1, normal/anomalous)`);
      label = 0;
    } else {
      const l = parseLabel(r.label);
      if (l === null) throw new UserError(`${where}: label must be 0/1 or normal/anomalous, got '${String(r.label)}'`);
      label = l;
    }
    if (split === 'train' && label === 1) throw new UserError(`${where}: training images must be normal (label 0): ${image}`);
    const mask = str('mask');
    const imagePath = path.resolve(base, image);
    const key = `${cls}\u0000${split}\u0000${imagePath}`;
    if (ids.has(key)) throw new UserError(`${where}: duplicate image ${image} (class ${cls}, split ${split})`);
    ids.add(key);
    const s: Sample = { id: '', className: cls, split, label, defectType: str('defect') ?? (label === 0 ? 'good' : 'anomaly'), imagePath };
    if (mask) s.maskPath = path.resolve(base, mask);
    samples.push(s);
  }
  // ids: "<class>/<split>/<image path relative to the images' common folder, without extension>"
  const common = commonDir(samples.map((s) => path.dirname(s.imagePath)));
  for (const s of samples) {
    const rel = path.relative(common, s.imagePath).split(path.sep).join('/');
    s.id = `${s.className}/${s.split}/${rel.replace(/\.[^./]+$/, '')}`;
  }
  return samples;
}

function commonDir(dirs: string[]): string {
  let parts = dirs[0].split(path.sep);
  for (const d of dirs.slice(1)) {
    const q = d.split(path.sep);
    let k = 0;
    while (k < parts.length && k < q.length && parts[k] === q[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join(path.sep) || path.sep;
}

/** Loads a manifest (CSV or JSONL) as a dataset; classes in order of first appearance. */
export async function loadManifest(file: string, opts: ManifestOptions = {}): Promise<FileDataset> {
  const name = opts.name ?? `manifest:${path.basename(file)}`;
  const all = readManifest(file, opts.format);
  const classes = [...new Set(all.map((s) => s.className))];
  assertClassesHaveTrainImages(classes, all, (c) => `${file} (no row with class '${c}' and split 'train')`);
  const checked = await checkSamples(name, all, opts);
  assertClassesHaveTrainImages(classes, checked.samples, (c) => `${file} (all training images of '${c}' were skipped)`);
  return new FileDataset(name, checked.samples, classes, checked.skipped, checked.imageSizes);
}
