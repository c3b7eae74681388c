// Which cells a resampled frame really covers: cells whose pixels would come from beyond the
// frame's edge (replicated border) must not win, so that the frames that do cover them decide.
import { pointInside } from './resample.js';
import { linearPart, type FrameTransform } from './transform.js';

/** The transform as plain numbers (pointMapper's matrix about the frame centre), and the frame. */
interface Footprint {
  m00: number;
  m01: number;
  m10: number;
  m11: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  cell: number;
}

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
  // Module-level functions over plain numbers, not closures made per frame: V8 threw away its code
  // for the closures at every new frame (a new call target) and compiled them again, ~25 ms each time.
  const { m00, m01, m10, m11 } = linearPart(t);
  const f: Footprint = { m00, m01, m10, m11, dx: t.dx, dy: t.dy, width, height, cell };
  for (let cy = 0; cy < cellsHigh; cy++) {
    let first = 0;
    while (first < cellsWide && !cellCovered(f, first, cy)) first++;
    let end = cellsWide;
    while (end > first && !cellCovered(f, end - 1, cy)) end--;
    out[2 * cy] = first;
    out[2 * cy + 1] = end;
  }
  return out;
}

function cellCovered(f: Footprint, cx: number, cy: number): boolean {
  const x0 = cx * f.cell;
  const y0 = cy * f.cell;
  const x1 = Math.min(f.width - 1, x0 + f.cell - 1);
  const y1 = Math.min(f.height - 1, y0 + f.cell - 1);
  return (
    pointCovered(f, x0, y0) && pointCovered(f, x1, y0) && pointCovered(f, x0, y1) && pointCovered(f, x1, y1)
  );
}

/** Whether reference pixel (x, y) comes from inside the frame (pointMapper, then pointInside). */
function pointCovered(f: Footprint, x: number, y: number): boolean {
  const cx = (f.width - 1) / 2;
  const cy = (f.height - 1) / 2;
  const xs = f.m00 * (x - cx) + f.m01 * (y - cy) + cx + f.dx;
  const ys = f.m10 * (x - cx) + f.m11 * (y - cy) + cy + f.dy;
  return pointInside([xs, ys], f.width, f.height);
}
