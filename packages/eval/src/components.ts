// Connected components of a binary mask with 8-connectivity (scipy.ndimage.label with a 3×3 structure of ones),
// the ground-truth regions of the PRO metric (Bergmann et al., MVTec AD, IJCV 2021, Sec. 4.2).

export interface Components {
  /** per pixel: 0 = background, 1..count = region number (row-major scan order of first pixel) */
  labels: Int32Array;
  count: number;
  /** sizes[r - 1] = pixel count of region r */
  sizes: Uint32Array;
}

/** Buffers reused across calls of labelComponents8 (the returned labels are then valid until the next call). */
export interface ComponentsWorkspace {
  labels?: Int32Array;
  stack?: Int32Array;
}

/** Labels the 8-connected regions of `fg` (true where fg[i] != 0), an image of height × width. */
export function labelComponents8(fg: ArrayLike<number>, height: number, width: number, work?: ComponentsWorkspace): Components {
  const n = height * width;
  if (fg.length !== n) throw new Error(`labelComponents8: ${fg.length} values for ${height}×${width}`);
  let labels: Int32Array;
  let stack: Int32Array;
  if (work) {
    if (!work.labels || work.labels.length !== n) work.labels = new Int32Array(n);
    else work.labels.fill(0);
    if (!work.stack || work.stack.length < n) work.stack = new Int32Array(n);
    labels = work.labels;
    stack = work.stack;
  } else {
    labels = new Int32Array(n);
    stack = new Int32Array(n);
  }
  const sizes: number[] = [];
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (fg[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    let size = 0;
    while (top > 0) {
      const i = stack[--top];
      size++;
      const y = (i / width) | 0;
      const x = i - y * width;
      const y0 = y > 0 ? y - 1 : 0;
      const y1 = y < height - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < width - 1 ? x + 1 : x;
      for (let yy = y0; yy <= y1; yy++) {
        const row = yy * width;
        for (let xx = x0; xx <= x1; xx++) {
          const j = row + xx;
          if (fg[j] !== 0 && labels[j] === 0) {
            labels[j] = count;
            stack[top++] = j;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Uint32Array.from(sizes) };
}
