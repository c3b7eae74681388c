// Depth and confidence from the cell grid to full resolution, bilinear between cell centres, so a
// depth map from 2×2 cells is as smooth as its sub-frame refinement allows rather than blocky.

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
  const lastX = cellsWide - 1;
  const lastY = cellsHigh - 1;
  for (let y = start; y < end; y++) {
    const fy = Math.min(lastY, Math.max(0, (y - centre) / cell));
    const y0 = Math.floor(fy);
    const y1 = Math.min(lastY, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(lastX, Math.max(0, (x - centre) / cell));
      const x0 = Math.floor(fx);
      const x1 = Math.min(lastX, x0 + 1);
      const wx = fx - x0;
      const a = y0 * cellsWide + x0,
        b = y0 * cellsWide + x1,
        c = y1 * cellsWide + x0,
        d = y1 * cellsWide + x1;
      const top = depth[a] + (depth[b] - depth[a]) * wx;
      const bottom = depth[c] + (depth[d] - depth[c]) * wx;
      depthOut[y * width + x] = top + (bottom - top) * wy;
      const ct = confidence[a] + (confidence[b] - confidence[a]) * wx;
      const cb = confidence[c] + (confidence[d] - confidence[c]) * wx;
      confidenceOut[y * width + x] = Math.round(ct + (cb - ct) * wy);
    }
  }
}
