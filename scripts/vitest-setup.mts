// Runs before every test file: registers the workspace's method packages (found by package.json field
// `unifiedAd.methods`), so that a new method package is known to every test without an edit here.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMethodPackages } from '@unified-ad/engine';

await loadMethodPackages(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'));
