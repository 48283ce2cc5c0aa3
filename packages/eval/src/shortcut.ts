// The "identical shortcut" of UniAD's Fig. 3 made measurable: a reconstruction net that has learned to copy its
// input reconstructs anomalies as well as normal features, so its error inside the defects is no larger than
// elsewhere. shortcut ratio = mean map value on ground-truth defect pixels / mean map value on normal pixels
// (every pixel of the normal test images and the unmarked pixels of the anomalous ones). 1 means the net copies
// anomalies as well as normal regions (an identity net, with zero error everywhere, has ratio 1 by the ε below);
// a useful detector is well above 1.
import { mapData, maskData, type MapLike, type MaskLike } from './pixels';

/** ε added to both means, so that an all-zero error map gives exactly 1 */
export const SHORTCUT_EPS = 1e-12;

export interface ShortcutStats {
  ratio: number;
  meanDefect: number;
  meanNormal: number;
  defectPixels: number;
  normalPixels: number;
}

/** Shortcut ratio of one class's maps (at the masks' resolution); NaN when it has no defect pixel. */
export function shortcutRatio(maps: MapLike[], masks: MaskLike[]): ShortcutStats {
  let sd = 0, nd = 0, sn = 0, nn = 0;
  maps.forEach((m, i) => {
    const d = mapData(m);
    const k = maskData(masks[i]);
    if (k && k.length !== d.length) throw new Error(`shortcutRatio: map ${i} has ${d.length} values, its mask ${k.length}`);
    for (let j = 0; j < d.length; j++) {
      if (k && k[j]! >= 0.5) { sd += d[j]!; nd++; } else { sn += d[j]!; nn++; }
    }
  });
  const meanDefect = nd ? sd / nd : NaN, meanNormal = nn ? sn / nn : NaN;
  return { ratio: nd && nn ? (meanDefect + SHORTCUT_EPS) / (meanNormal + SHORTCUT_EPS) : NaN, meanDefect, meanNormal, defectPixels: nd, normalPixels: nn };
}
