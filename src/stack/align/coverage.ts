// Which cells a resampled frame really covers: cells whose pixels would come from beyond the
// frame's edge (replicated border) must not win, so that the frames that do cover them decide.
import { pointInside } from './resample.js';
import { pointMapper, type FrameTransform } from './transform.js';

/**
 * Per cell row, the covered cells as [first, end) pairs (Int32Array of 2 × cell rows). A frame
 * resampled by a similarity covers a convex quadrilateral, so each cell row's covered cells are
 * one interval; a cell counts as covered when all four of its corner pixels are.
 */
export function coverageIntervals(
  t: FrameTransform,
  width: number,
  height: number,
  cell: number,
): Int32Array {
  const cellsWide = Math.ceil(width / cell);
  const cellsHigh = Math.ceil(height / cell);
  const out = new Int32Array(cellsHigh * 2);
  const map = pointMapper(t, width, height);
  const inside = (x: number, y: number) => pointInside(map(x, y), width, height);
  const covered = (cx: number, cy: number): boolean => {
    const x0 = cx * cell;
    const y0 = cy * cell;
    const x1 = Math.min(width - 1, x0 + cell - 1);
    const y1 = Math.min(height - 1, y0 + cell - 1);
    return inside(x0, y0) && inside(x1, y0) && inside(x0, y1) && inside(x1, y1);
  };
  for (let cy = 0; cy < cellsHigh; cy++) {
    let first = 0;
    while (first < cellsWide && !covered(first, cy)) first++;
    let end = cellsWide;
    while (end > first && !covered(end - 1, cy)) end--;
    out[2 * cy] = first;
    out[2 * cy + 1] = end;
  }
  return out;
}
