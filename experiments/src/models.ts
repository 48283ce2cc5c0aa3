// Registers every method: the method packages of this workspace are found by their package.json field
// `"unifiedAd": {"methods": true}` and imported (see packages/engine/src/discover.ts). Under ts-node (the CLI)
// this happens when this module is imported; under vitest, the root setup file awaits loadMethodPackages().
import * as path from 'node:path';
import { loadMethodPackages, loadMethodPackagesSync } from '@unified-ad/engine';

/** The workspace root this application belongs to (experiments/..). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..');

loadMethodPackagesSync(WORKSPACE_ROOT);

/** Awaitable form (needed where .ts files are imported rather than required, e.g. under vitest). */
export const loadMethods = () => loadMethodPackages(WORKSPACE_ROOT);
