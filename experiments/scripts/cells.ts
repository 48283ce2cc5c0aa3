// The cell folders of finished or running grids, shared by the table scripts (collect-tables.ts, cell-metrics.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A cell folder itself (it has config.yaml), or the cells of a grid folder (its cells/), sorted; else none. */
export function cellDirs(dir: string): string[] {
  if (fs.existsSync(path.join(dir, 'config.yaml'))) return [dir];
  const cells = path.join(dir, 'cells');
  return fs.existsSync(cells) ? fs.readdirSync(cells).sort().map((c) => path.join(cells, c)) : [];
}
