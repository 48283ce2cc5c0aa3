// `uniad report <dir>`: one static HTML page for a run folder or an experiment folder: its tables (every
// tables/*.csv), pictures (every pictures/*.png, embedded), resolved config, environment and timings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, writeFileAtomic } from '@unified-ad/core';
import { readPlanFile } from './grid/plan';
import { readResultsFile } from './run-folder';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Minimal RFC 4180 CSV parser (quoted fields, doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') (f += '"'), i++;
      else if (ch === '"') q = false;
      else f += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') row.push(f), (f = '');
    else if (ch === '\n') row.push(f), rows.push(row), (row = []), (f = '');
    else if (ch !== '\r') f += ch;
  }
  if (f || row.length) row.push(f), rows.push(row);
  return rows;
}

function mdTitle(mdFile: string): string | null {
  if (!fs.existsSync(mdFile)) return null;
  const m = /^\*\*(.+)\*\*/.exec(fs.readFileSync(mdFile, 'utf8'));
  return m ? m[1] : null;
}

function mdNotes(mdFile: string): string[] {
  if (!fs.existsSync(mdFile)) return [];
  const lines = fs.readFileSync(mdFile, 'utf8').split('\n');
  const last = lines.map((l, i) => (l.startsWith('|') ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  return lines.slice(last + 1).filter((l) => l.trim());
}

function htmlTable(rows: string[][]): string {
  if (!rows.length) return '';
  const [head, ...body] = rows;
  // numbers, "97.5 ± 0.12 / 98.1", "+1.2 / −0.3", "– / 99.0", "1.2 M", "84 @12": right-aligned
  const value = '(?:[-+−]?[\\d.]+(?:e[-+]?\\d+)?(?: ± [\\d.]+)?|–|-)';
  const numRe = new RegExp(`^${value}(?: / ${value})?(?: ?[kM%×]| @\\d+)?(?: \\(\\d+ models\\))?$`);
  const num = (s: string) => s.trim() !== '' && numRe.test(s.trim());
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr${r[0] === 'mean' ? ' class="mean"' : ''}>${r.map((c) => `<td${num(c) ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function listFiles(dir: string, ext: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(ext)).sort() : [];
}

function readText(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

/** Experiments with at most this many runs show the runs' pictures in their report. */
export const MAX_CELLS_WITH_PICTURES = 8;

/** Tables shown first, in this order (others follow alphabetically). */
const TABLE_ORDER = ['table1', 'table2', 'metrics', 'fig3', 'ablation', 'semantic', 'parameters'];

export interface ReportOptions {
  /** output file (default <dir>/report.html) */
  out?: string;
  /** link the PNGs instead of embedding them */
  link?: boolean;
}

/** Writes the report; returns its path. */
export function writeReport(dir: string, opts: ReportOptions = {}): string {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UserError(`report: ${dir} is not a folder`);
  const isRun = fs.existsSync(path.join(root, 'config.yaml'));
  const isExperiment = fs.existsSync(path.join(root, 'plan.json'));
  if (!isRun && !isExperiment) throw new UserError(`report: ${dir} is neither a run folder (config.yaml) nor an experiment folder (plan.json)`);
  const out = path.resolve(opts.out ?? path.join(root, 'report.html'));
  const parts: string[] = [];
  let title = path.basename(root);
  let subtitle = '';
  if (isRun) {
    const resFile = path.join(root, 'results.json');
    if (fs.existsSync(resFile)) {
      const r = readResultsFile(resFile);
      title = `${r.name}: ${r.method} (${r.setting})`;
      subtitle = `seed ${r.seed} · ${r.models} model${r.models > 1 ? 's' : ''} · ${r.parameters_total.toLocaleString('en-US')} parameters · ${r.seconds.toFixed(1)} s`;
    } else subtitle = 'run not finished (no results.json)';
  } else {
    const plan = readPlanFile(root);
    title = `Experiment ${plan.experiment}`;
    subtitle = `budget ${plan.options.budget} · ${plan.options.seeds} seed${plan.options.seeds > 1 ? 's' : ''} · ${plan.cells.length} runs`;
  }
  const tdir = path.join(root, 'tables');
  const order = (f: string) => { const i = TABLE_ORDER.findIndex((p) => f.startsWith(p)); return i < 0 ? TABLE_ORDER.length : i; };
  const tables = listFiles(tdir, '.csv').sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (tables.length) {
    parts.push('<h2>Tables</h2>');
    for (const t of tables) {
      const base = t.replace(/\.csv$/, '');
      const md = path.join(tdir, `${base}.md`);
      parts.push(`<h3>${esc(mdTitle(md) ?? base)}</h3>`, htmlTable(parseCsv(fs.readFileSync(path.join(tdir, t), 'utf8')).filter((r) => r.length > 1 || r[0] !== '')));
      for (const n of mdNotes(md)) parts.push(`<p class="note">${esc(n)}</p>`);
      parts.push(`<p class="files"><a href="${esc(path.relative(path.dirname(out), path.join(tdir, t)))}">${esc(t)}</a> · <a href="${esc(path.relative(path.dirname(out), md))}">${esc(base)}.md</a></p>`);
    }
  }
  const figure = (file: string) => {
    const src = opts.link ? path.relative(path.dirname(out), file) : `data:image/png;base64,${fs.readFileSync(file).toString('base64')}`;
    return `<figure><img src="${esc(src)}" alt="${esc(path.basename(file))}"><figcaption>${esc(path.relative(root, file))}</figcaption></figure>`;
  };
  const pdir = path.join(root, 'pictures');
  const pics = listFiles(pdir, '.png');
  if (pics.length) {
    parts.push('<h2>Pictures</h2>');
    for (const p of pics) parts.push(figure(path.join(pdir, p)));
  }
  if (isExperiment) {
    const cdir = path.join(root, 'cells');
    const cells = fs.existsSync(cdir) ? fs.readdirSync(cdir).sort() : [];
    if (cells.length) {
      // a small grid (the demo, fig3) shows its runs' pictures; a large one links its run folders
      const showPictures = cells.length <= MAX_CELLS_WITH_PICTURES;
      parts.push('<h2>Runs</h2><ul class="cells">');
      for (const c of cells) parts.push(`<li><a href="${esc(path.relative(path.dirname(out), path.join(cdir, c)))}/">${esc(c)}</a></li>`);
      parts.push('</ul>');
      if (showPictures) {
        for (const c of cells) {
          const cp = listFiles(path.join(cdir, c, 'pictures'), '.png');
          if (!cp.length) continue;
          parts.push(`<h3>${esc(c)}</h3>`);
          for (const p of cp) parts.push(figure(path.join(cdir, c, 'pictures', p)));
        }
      }
    }
  }
  for (const [name, file] of [
    ['Timings', 'timings.json'],
    ['Configuration', 'config.yaml'],
    ['Environment', 'env.json'],
    ['Plan', 'plan.json'],
  ]) {
    const text = readText(path.join(root, file));
    if (text) parts.push(`<h2>${name}</h2><p class="files">${file}</p><pre>${esc(text.length > 20000 ? text.slice(0, 20000) + '\n…' : text)}</pre>`);
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1150px;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.1em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}h3{font-size:1.05em;margin-bottom:.4em}
.sub{color:#666;margin-top:0}table{border-collapse:collapse;margin:.3em 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;white-space:nowrap}th{background:#f3f5f7}td.n{text-align:right}
tr.mean td{font-weight:600;background:#fafafa}.note{color:#555;font-size:.92em;margin:.2em 0}.files{color:#888;font-size:.85em;margin:.2em 0}
figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}figcaption{color:#666;font-size:.85em}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.8em;overflow:auto;font-size:12px;max-height:30em}
</style></head><body>
<h1>${esc(title)}</h1><p class="sub">${esc(subtitle)} · ${esc(root)}</p>
${parts.join('\n')}
<p class="files">written by uniad report, ${new Date().toISOString()}</p>
</body></html>
`;
  writeFileAtomic(out, html);
  return out;
}
