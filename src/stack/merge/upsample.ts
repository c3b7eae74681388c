// Depth and confidence from the cell grid to full resolution, bilinear between cell centres, so a
// depth map from 2×2 cells is as smooth as its sub-frame refinement allows rather than blocky.

/** Per output column: the left cell, the right cell and the right one's weight (shared by every row). */
function columnTable(
  width: number,
  cellsWide: number,
  cell: number,
): { left: Int32Array; right: Int32Array; weight: Float32Array } {
  const centre = (cell - 1) / 2;
  const left = new Int32Array(width);
  const right = new Int32Array(width);
  const weight = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(cellsWide - 1, Math.max(0, (x - centre) / cell));
    left[x] = Math.floor(fx);
    right[x] = Math.min(cellsWide - 1, left[x] + 1);
    weight[x] = fx - left[x];
  }
  return { left, right, weight };
}

export function upsampleRows(
  depth: Float32Array,
  confidence: Uint8Array,
  cellsWide: number,
  cellsHigh: number,
  cell: number,
  width: number,
  start: number,
  end: number,
  depthOut: Float32Array,
  confidenceOut: Uint8Array,
): void {
  const centre = (cell - 1) / 2;
  const lastY = cellsHigh - 1;
  const { left, right, weight } = columnTable(width, cellsWide, cell);
  for (let y = start; y < end; y++) {
    const fy = Math.min(lastY, Math.max(0, (y - centre) / cell));
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    const top = y0 * cellsWide;
    const bottom = Math.min(lastY, y0 + 1) * cellsWide;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const a = top + left[x];
      const b = top + right[x];
      const c = bottom + left[x];
      const d = bottom + right[x];
      const wx = weight[x];
      const dt = depth[a] + (depth[b] - depth[a]) * wx;
      const db = depth[c] + (depth[d] - depth[c]) * wx;
      depthOut[o + x] = dt + (db - dt) * wy;
      const ct = confidence[a] + (confidence[b] - confidence[a]) * wx;
      const cb = confidence[c] + (confidence[d] - confidence[c]) * wx;
      confidenceOut[o + x] = (ct + (cb - ct) * wy + 0.5) | 0;
    }
  }
}
