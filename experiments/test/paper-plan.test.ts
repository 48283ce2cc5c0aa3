// `uniad experiment run table1|table2 --budget paper --root <MVTec AD>` plans every method of the poster's
// Tables 1–2 with its paper profile (experiments/configs/<m>-paper.yaml), in both settings. Planned on the shared
// MVTec AD folder (bottle); nothing is trained.
import { describe, it, expect } from 'vitest';
import * as path from 'node:path';
import { readYaml, sharedPath } from '@unified-ad/core';
import { getExperiment } from '../src/experiments';
import { CONFIG_DIR } from '../src/config-files';

const mvtec = sharedPath('data', 'mvtec-ad');
const POSTER = { table1: ['us', 'psvdd', 'padim', 'cutpaste', 'mkd', 'draem', 'uniad'], table2: ['us', 'psvdd', 'padim', 'fcdd', 'mkd', 'draem', 'uniad'] } as const;

describe.skipIf(!mvtec)('table1 / table2 at the paper budget (needs ../shared/data/mvtec-ad; skipped when absent)', () => {
  for (const name of ['table1', 'table2'] as const) {
    it(`${name}: every poster method, unified and separate, with its paper profile`, async () => {
      const cells = await getExperiment(name).plan({ budget: 'paper', seeds: 1, root: mvtec!, methods: [...POSTER[name]] });
      for (const m of POSTER[name]) {
        const mine = cells.filter((c) => c.method === m);
        expect(new Set(mine.map((c) => c.setting)), m).toEqual(new Set(['unified', 'separate']));
        const paper = readYaml(path.join(CONFIG_DIR, `${m}-paper.yaml`)) as { model: { config?: Record<string, unknown> }; train?: { epochs?: number } };
        for (const c of mine) {
          expect(c.config.model.name).toBe(m);
          expect(c.config.model.config, `${m} model.config`).toMatchObject(paper.model.config ?? {});
          if (paper.train?.epochs !== undefined) expect(c.config.train.epochs, `${m} train.epochs`).toBe(paper.train.epochs);
          expect(c.config.data).toMatchObject({ type: 'mvtec', root: mvtec });
        }
      }
      // FCDD and CutPaste run the ImageNet MobileNetV2 prefix; the paper profiles' lengths
      const byM = (m: string) => cells.find((c) => c.method === m)!.config;
      if (name === 'table2') expect([byM('fcdd').model.config.encoder, byM('fcdd').train.epochs]).toEqual(['backbone', 200]);
      else expect([byM('cutpaste').model.config.encoder, byM('cutpaste').train.epochs, byM('draem').train.epochs]).toEqual(['backbone', 300, 700]);
    });
  }
});
