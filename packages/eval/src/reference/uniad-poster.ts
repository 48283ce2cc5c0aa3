// Reference numbers: Tables 1–2 of the UniAD poster (You et al., "A Unified Model for Multi-class Anomaly
// Detection", NeurIPS 2022), image- and pixel-level AUROC (%) on MVTec AD, each cell "unified / separate".
// UniAD's unified numbers are means over 5 seeds with their ± (std) as the third element. Transcribed from the
// poster text (shared/seed/000_a3a19371d9c82dfa.txt); test/reference.test.ts checks every cell against that text
// when it is present, and the per-class numbers against the poster's stated group means.
// Citation numbers as in the poster: US [5], PSVDD [46], PaDiM [8], CutPaste [23], FCDD [26], MKD [36], DRAEM [50].
// FCDD's separate-case pixel AUROCs are published as whole numbers.

/** [unified, separate] or [unified, separate, std of unified over seeds] in percent. */
export type PaperCell = [number, number] | [number, number, number];

export interface PaperTable {
  id: 'table1' | 'table2';
  caption: string;
  /** the metric key of our results that the table reports */
  metric: 'i_auroc' | 'p_auroc';
  /** method columns in the poster's order ('UniAD' is the poster's "Ours") */
  methods: string[];
  /** MVTec AD class (folder name) -> method -> cell */
  classes: Record<string, Record<string, PaperCell>>;
  /** the poster's stated means (objects, textures, all 15 classes) */
  means: Record<'objects' | 'textures' | 'all', Record<string, PaperCell>>;
  /** decimal places the poster gives per method and setting when not 1 */
  precision?: Record<string, { unified?: number; separate?: number }>;
}

export const MVTEC_OBJECTS = ['bottle', 'cable', 'capsule', 'hazelnut', 'metal_nut', 'pill', 'screw', 'toothbrush', 'transistor', 'zipper'];
export const MVTEC_TEXTURES = ['carpet', 'grid', 'leather', 'tile', 'wood'];

export const UNIAD_POSTER_TABLE1: PaperTable = {
  id: 'table1',
  caption: 'Anomaly detection results with AUROC metric on MVTec-AD (unified / separate)',
  metric: 'i_auroc',
  methods: ['US', 'PSVDD', 'PaDiM', 'CutPaste', 'MKD', 'DRAEM', 'UniAD'],
  classes: {
    bottle: { US: [84.0, 99.0], PSVDD: [85.5, 98.6], PaDiM: [97.9, 99.9], CutPaste: [67.9, 98.2], MKD: [98.7, 99.4], DRAEM: [97.5, 99.2], UniAD: [99.7, 100, 0.04] },
    cable: { US: [60.0, 86.2], PSVDD: [64.4, 90.3], PaDiM: [70.9, 92.7], CutPaste: [69.2, 81.2], MKD: [78.2, 89.2], DRAEM: [57.8, 91.8], UniAD: [95.2, 97.6, 0.84] },
    capsule: { US: [57.6, 86.1], PSVDD: [61.3, 76.7], PaDiM: [73.4, 91.3], CutPaste: [63.0, 98.2], MKD: [68.3, 80.5], DRAEM: [65.3, 98.5], UniAD: [86.9, 85.3, 0.73] },
    hazelnut: { US: [95.8, 93.1], PSVDD: [83.9, 92.0], PaDiM: [85.5, 92.0], CutPaste: [80.9, 98.3], MKD: [97.1, 98.4], DRAEM: [93.7, 100], UniAD: [99.8, 99.9, 0.10] },
    metal_nut: { US: [62.7, 82.0], PSVDD: [80.9, 94.0], PaDiM: [88.0, 98.7], CutPaste: [60.0, 99.9], MKD: [64.9, 73.6], DRAEM: [72.8, 98.7], UniAD: [99.2, 99.0, 0.09] },
    pill: { US: [56.1, 87.9], PSVDD: [89.4, 86.1], PaDiM: [68.8, 93.3], CutPaste: [71.4, 94.9], MKD: [79.7, 82.7], DRAEM: [82.2, 98.9], UniAD: [93.7, 88.3, 0.65] },
    screw: { US: [66.9, 54.9], PSVDD: [80.9, 81.3], PaDiM: [56.9, 85.8], CutPaste: [85.2, 88.7], MKD: [75.6, 83.3], DRAEM: [92.0, 93.9], UniAD: [87.5, 91.9, 0.57] },
    toothbrush: { US: [57.8, 95.3], PSVDD: [99.4, 100], PaDiM: [95.3, 96.1], CutPaste: [63.9, 99.4], MKD: [75.3, 92.2], DRAEM: [90.6, 100], UniAD: [94.2, 95.0, 0.20] },
    transistor: { US: [61.0, 81.8], PSVDD: [77.5, 91.5], PaDiM: [86.6, 97.4], CutPaste: [57.9, 96.1], MKD: [73.4, 85.6], DRAEM: [74.8, 93.1], UniAD: [99.8, 100, 0.09] },
    zipper: { US: [78.6, 91.9], PSVDD: [77.8, 97.9], PaDiM: [79.7, 90.3], CutPaste: [93.5, 99.9], MKD: [87.4, 93.2], DRAEM: [98.8, 100], UniAD: [95.8, 96.7, 0.51] },
    carpet: { US: [86.6, 91.6], PSVDD: [63.3, 92.9], PaDiM: [93.8, 99.8], CutPaste: [93.6, 93.9], MKD: [69.8, 79.3], DRAEM: [98.0, 97.0], UniAD: [99.8, 99.9, 0.02] },
    grid: { US: [69.2, 81.0], PSVDD: [66.0, 94.6], PaDiM: [73.9, 96.7], CutPaste: [93.2, 100], MKD: [83.8, 78.0], DRAEM: [99.3, 99.9], UniAD: [98.2, 98.5, 0.26] },
    leather: { US: [97.2, 88.2], PSVDD: [60.8, 90.9], PaDiM: [99.9, 100], CutPaste: [93.4, 100], MKD: [93.6, 95.1], DRAEM: [98.7, 100], UniAD: [100, 100, 0.00] },
    tile: { US: [93.7, 99.1], PSVDD: [88.3, 97.8], PaDiM: [93.3, 98.1], CutPaste: [88.6, 94.6], MKD: [89.5, 91.6], DRAEM: [99.8, 99.6], UniAD: [99.3, 99.0, 0.14] },
    wood: { US: [90.6, 97.7], PSVDD: [72.1, 96.5], PaDiM: [98.4, 99.2], CutPaste: [80.4, 99.1], MKD: [93.4, 94.3], DRAEM: [99.8, 99.1], UniAD: [98.6, 97.9, 0.08] },
  },
  means: {
    objects: { US: [68.1, 85.8], PSVDD: [80.1, 90.8], PaDiM: [80.3, 93.8], CutPaste: [71.3, 95.5], MKD: [79.8, 87.8], DRAEM: [82.6, 97.4], UniAD: [95.2, 95.4, 0.11] },
    textures: { US: [87.4, 91.5], PSVDD: [70.1, 94.5], PaDiM: [91.9, 98.8], CutPaste: [89.8, 97.5], MKD: [86.0, 87.7], DRAEM: [99.1, 99.1], UniAD: [99.2, 99.1, 0.07] },
    all: { US: [74.5, 87.7], PSVDD: [76.8, 92.1], PaDiM: [84.2, 95.5], CutPaste: [77.5, 96.1], MKD: [81.9, 87.8], DRAEM: [88.1, 98.0], UniAD: [96.5, 96.6, 0.08] },
  },
};

export const UNIAD_POSTER_TABLE2: PaperTable = {
  id: 'table2',
  caption: 'Anomaly localization results with AUROC metric on MVTec-AD (unified / separate)',
  metric: 'p_auroc',
  methods: ['US', 'PSVDD', 'PaDiM', 'FCDD', 'MKD', 'DRAEM', 'UniAD'],
  classes: {
    bottle: { US: [67.9, 97.8], PSVDD: [86.7, 98.1], PaDiM: [96.1, 98.2], FCDD: [56.0, 97], MKD: [91.8, 96.3], DRAEM: [87.6, 99.1], UniAD: [98.1, 98.1, 0.04] },
    cable: { US: [78.3, 91.9], PSVDD: [62.2, 96.8], PaDiM: [81.0, 96.7], FCDD: [64.1, 90], MKD: [89.3, 82.4], DRAEM: [71.3, 94.7], UniAD: [97.3, 96.8, 0.10] },
    capsule: { US: [85.5, 96.8], PSVDD: [83.1, 95.8], PaDiM: [96.9, 98.6], FCDD: [67.6, 93], MKD: [88.3, 95.9], DRAEM: [50.5, 94.3], UniAD: [98.5, 97.9, 0.01] },
    hazelnut: { US: [93.7, 98.2], PSVDD: [97.4, 97.5], PaDiM: [96.3, 98.1], FCDD: [79.3, 95], MKD: [91.2, 94.6], DRAEM: [96.9, 99.7], UniAD: [98.1, 98.8, 0.10] },
    metal_nut: { US: [76.6, 97.2], PSVDD: [96.0, 98.0], PaDiM: [84.8, 97.3], FCDD: [57.5, 94], MKD: [64.2, 86.4], DRAEM: [62.2, 99.5], UniAD: [94.8, 95.7, 0.09] },
    pill: { US: [80.3, 96.5], PSVDD: [96.5, 95.1], PaDiM: [87.7, 95.7], FCDD: [65.9, 81], MKD: [69.7, 89.6], DRAEM: [94.4, 97.6], UniAD: [95.0, 95.1, 0.16] },
    screw: { US: [90.8, 97.4], PSVDD: [74.3, 95.7], PaDiM: [94.1, 98.4], FCDD: [67.2, 86], MKD: [92.1, 96.0], DRAEM: [95.5, 97.6], UniAD: [98.3, 97.4, 0.08] },
    toothbrush: { US: [86.9, 97.9], PSVDD: [98.0, 98.1], PaDiM: [95.6, 98.8], FCDD: [60.8, 94], MKD: [88.9, 96.1], DRAEM: [97.7, 98.1], UniAD: [98.4, 97.8, 0.03] },
    transistor: { US: [68.3, 73.7], PSVDD: [78.5, 97.0], PaDiM: [92.3, 97.6], FCDD: [54.2, 88], MKD: [71.7, 76.5], DRAEM: [64.5, 90.9], UniAD: [97.9, 98.7, 0.19] },
    zipper: { US: [84.2, 95.6], PSVDD: [95.1, 95.1], PaDiM: [94.8, 98.4], FCDD: [63.0, 92], MKD: [86.1, 93.9], DRAEM: [98.3, 98.8], UniAD: [96.8, 96.0, 0.24] },
    carpet: { US: [88.7, 93.5], PSVDD: [78.6, 92.6], PaDiM: [97.6, 99.0], FCDD: [68.6, 96], MKD: [95.5, 95.6], DRAEM: [98.6, 95.5], UniAD: [98.5, 98.0, 0.01] },
    grid: { US: [64.5, 89.9], PSVDD: [70.8, 96.2], PaDiM: [71.0, 97.1], FCDD: [65.8, 91], MKD: [82.3, 91.8], DRAEM: [98.7, 99.7], UniAD: [96.5, 94.6, 0.04] },
    leather: { US: [95.4, 97.8], PSVDD: [93.5, 97.4], PaDiM: [84.8, 99.0], FCDD: [66.3, 98], MKD: [96.7, 98.1], DRAEM: [97.3, 98.6], UniAD: [98.8, 98.3, 0.03] },
    tile: { US: [82.7, 92.5], PSVDD: [92.1, 91.4], PaDiM: [80.5, 94.1], FCDD: [59.3, 91], MKD: [85.3, 82.8], DRAEM: [98.0, 99.2], UniAD: [91.8, 91.8, 0.10] },
    wood: { US: [83.3, 92.1], PSVDD: [80.7, 90.8], PaDiM: [89.1, 94.1], FCDD: [53.3, 88], MKD: [80.5, 84.8], DRAEM: [96.0, 96.4], UniAD: [93.2, 93.4, 0.08] },
  },
  means: {
    objects: { US: [81.2, 94.3], PSVDD: [86.8, 96.7], PaDiM: [92.0, 97.8], FCDD: [63.6, 91], MKD: [83.3, 90.8], DRAEM: [81.9, 97.0], UniAD: [97.3, 97.2, 0.02] },
    textures: { US: [82.9, 93.2], PSVDD: [83.1, 93.7], PaDiM: [84.6, 96.7], FCDD: [62.7, 93], MKD: [88.0, 90.6], DRAEM: [97.7, 97.9], UniAD: [95.8, 95.3, 0.04] },
    all: { US: [81.8, 93.9], PSVDD: [85.6, 95.7], PaDiM: [89.5, 97.4], FCDD: [63.3, 92], MKD: [84.9, 90.7], DRAEM: [87.2, 97.3], UniAD: [96.8, 96.6, 0.02] },
  },
  precision: { FCDD: { separate: 0 } },
};

/** The poster table for a metric key (i_auroc -> Table 1, p_auroc -> Table 2), or undefined. */
export function posterTableFor(metric: string): PaperTable | undefined {
  if (metric === 'i_auroc') return UNIAD_POSTER_TABLE1;
  if (metric === 'p_auroc') return UNIAD_POSTER_TABLE2;
  return undefined;
}
