// Per-class counts of a dataset, for logs and reports.
import type { Dataset } from '@unified-ad/core';

export interface ClassSummary {
  className: string;
  train: number;
  testNormal: number;
  testAnomalous: number;
  /** test images per defect type (including 'good') */
  defects: Record<string, number>;
}

export function summarizeDataset(ds: Pick<Dataset, 'samples' | 'classes'>): ClassSummary[] {
  const by = new Map<string, ClassSummary>();
  for (const c of ds.classes) by.set(c, { className: c, train: 0, testNormal: 0, testAnomalous: 0, defects: {} });
  for (const s of ds.samples) {
    let e = by.get(s.className);
    if (!e) by.set(s.className, (e = { className: s.className, train: 0, testNormal: 0, testAnomalous: 0, defects: {} }));
    if (s.split === 'train') e.train++;
    else {
      if (s.label === 1) e.testAnomalous++;
      else e.testNormal++;
      e.defects[s.defectType] = (e.defects[s.defectType] ?? 0) + 1;
    }
  }
  return [...by.values()];
}
