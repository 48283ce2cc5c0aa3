// Progress for long loops: a bar on a TTY, plain lines (every ~10 % or 30 s) in CI and logs.
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  tick(n?: number, info?: Record<string, string | number>): void;
  stop(): void;
}

const quiet = () => process.env.UNIFIED_AD_QUIET === '1' || process.env.VITEST !== undefined;

export function progress(label: string, total: number): Progress {
  if (quiet()) return { tick() {}, stop() {} };
  const stream = process.stderr;
  if (stream.isTTY && !process.env.CI) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted} {info}`, stream, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    let v = 0;
    return {
      tick(n = 1, info) {
        v += n;
        bar.update(v, { info: info ? fmt(info) : '' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let v = 0;
  let lastPct = -1;
  let lastT = Date.now();
  const t0 = Date.now();
  return {
    tick(n = 1, info) {
      v += n;
      const pct = Math.floor((100 * v) / Math.max(1, total));
      if (v >= total || pct >= lastPct + 10 || Date.now() - lastT > 30000) {
        lastPct = pct;
        lastT = Date.now();
        const el = (Date.now() - t0) / 1000;
        stream.write(`${label}: ${v}/${total} (${pct}%) ${el.toFixed(1)}s${info ? ' ' + fmt(info) : ''}\n`);
      }
    },
    stop() {},
  };
}

/** One progress value: integers (counts) as integers, other numbers with 4 decimals (or exponent when tiny). */
export function formatProgressValue(x: string | number): string {
  if (typeof x !== 'number') return x;
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) < 1e-2 && x !== 0 ? x.toExponential(3) : x.toFixed(4);
}

/** "k=v k=v" of a progress line's info (exported for tests). */
export function formatProgressInfo(info: Record<string, string | number>): string {
  return Object.entries(info)
    .map(([k, x]) => `${k}=${formatProgressValue(x)}`)
    .join(' ');
}

const fmt = formatProgressInfo;
