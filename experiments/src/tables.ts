// A table as data (header + rows of strings) and its Markdown / CSV renderings, written side by side.
import * as path from 'node:path';
import { writeFileAtomic } from '@unified-ad/core';

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  /** lines printed under the table */
  notes?: string[];
  /** right-align these columns in Markdown (default: all but the first) */
  align?: ('l' | 'r')[];
}

export function tableToMarkdown(t: Table): string {
  const align = t.align ?? t.header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `**${t.title}**`,
    '',
    `| ${t.header.map(esc).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  if (t.notes?.length) lines.push('', ...t.notes);
  return lines.join('\n') + '\n';
}

export function tableToCsv(t: Table): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [t.header, ...t.rows].map((r) => r.map(q).join(',')).join('\n') + '\n';
}

/** Plain-text rendering for a terminal (aligned columns). */
export function tableToText(t: Table): string {
  const all = [t.header, ...t.rows];
  const w = t.header.map((_, j) => Math.max(...all.map((r) => [...(r[j] ?? '')].length)));
  const pad = (s: string, j: number) => (j === 0 ? s.padEnd(w[j]) : s.padStart(w[j]));
  const line = (r: string[]) => r.map((s, j) => pad(s ?? '', j)).join('  ');
  return [t.title, line(t.header), w.map((x) => '-'.repeat(x)).join('  '), ...t.rows.map(line), ...(t.notes ?? [])].join('\n') + '\n';
}

/** Writes <dir>/<name>.md and <dir>/<name>.csv. */
export function writeTable(dir: string, name: string, t: Table): void {
  writeFileAtomic(path.join(dir, `${name}.md`), tableToMarkdown(t));
  writeFileAtomic(path.join(dir, `${name}.csv`), tableToCsv(t));
}
