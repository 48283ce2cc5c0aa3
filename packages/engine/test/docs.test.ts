// docs/adding-a-method.md shows the example package verbatim (the fixture the plugin-discovery test installs).
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..');
const fixture = path.join(__dirname, 'fixtures', 'models-example');

describe('docs/adding-a-method.md', () => {
  const doc = fs.readFileSync(path.join(repo, 'docs', 'adding-a-method.md'), 'utf8');
  it('shows the example method and its package.json verbatim', () => {
    expect(doc).toContain(fs.readFileSync(path.join(fixture, 'src', 'index.ts'), 'utf8').trimEnd());
    expect(doc).toContain(fs.readFileSync(path.join(fixture, 'package.json'), 'utf8').trimEnd());
  });
  it('names no wiring step outside the package', () => {
    expect(doc).not.toMatch(/add .* to `?workspaces`?|add `import '@unified-ad\/models-example'/);
  });
});
