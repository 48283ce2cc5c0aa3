#!/usr/bin/env node
// `uniad` command: runs experiments/src/cli.ts through ts-node (transpile-only: no build step, no type check).
'use strict';
const path = require('node:path');
require('ts-node').register({
  transpileOnly: true,
  project: path.resolve(__dirname, '..', '..', 'tsconfig.json'),
});
require('../src/cli').main(process.argv).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e && e.stack) || e}\n`);
    process.exit(1);
  },
);
