// Decimates a (2^k + 1)² height grid into a right-triangulated irregular network (RTIN: Evans, Kirkpatrick
// and Townsend, "Right-Triangulated Irregular Networks", Algorithmica 2001; the layout of Agafonkin's
// MARTINI). Unlike MARTINI's midpoint estimate, each triangle's error here is exact: the largest
// vertical distance from any grid point inside it (edges included) to its plane, raised to the largest
// error of its descendants. A triangle is split only when that error exceeds the tolerance, and the two
// triangles sharing a hypotenuse share its midpoint's error, so they split together: no cracks.
//
// Bound: every grid point lies within `maxErrorUm` (reported) of the mesh, vertically.

/** Per grid point: the error of the triangles whose hypotenuse it is the midpoint of (0 for corners). */
export function rtinErrors(heights: Float32Array, size: number): Float32Array {
  const tile = size - 1;
  if (tile < 1 || (tile & (tile - 1)) !== 0 || heights.length !== size * size)
    throw new RangeError(`RTIN needs a (2^k + 1)² grid, got size ${size} with ${heights.length} heights`);
  const errors = new Float32Array(size * size);
  const numTriangles = tile * tile * 2 - 2;
  const numParents = numTriangles - tile * tile;
  // Triangle ids encode their path from a root (low bit first), so children come after parents:
  // walking the ids backwards sees every child before its parent.
  for (let i = numTriangles - 1; i >= 0; i--) {
    let id = i + 2;
    // prettier-ignore
    let ax = 0, ay = 0, bx = 0, by = 0, cx = 0, cy = 0;
    if (id & 1) bx = by = cx = tile;
    else ax = ay = cy = tile;
    while ((id >>= 1) > 1) {
      const mx = (ax + bx) >> 1;
      const my = (ay + by) >> 1;
      if (id & 1) {
        bx = ax;
        by = ay;
        ax = cx;
        ay = cy;
      } else {
        ax = bx;
        ay = by;
        bx = cx;
        by = cy;
      }
      cx = mx;
      cy = my;
    }
    const mid = ((ay + by) >> 1) * size + ((ax + bx) >> 1);
    let error: number;
    if (i >= numParents) {
      // Smallest parents: the midpoint is their only grid point that is not a corner.
      error = Math.abs(heights[mid] - (heights[ay * size + ax] + heights[by * size + bx]) / 2);
    } else {
      error = triangleError(heights, size, ax, ay, bx, by, cx, cy);
      const left = ((ay + cy) >> 1) * size + ((ax + cx) >> 1);
      const right = ((by + cy) >> 1) * size + ((bx + cx) >> 1);
      error = Math.max(error, errors[left], errors[right]);
    }
    if (error > errors[mid]) errors[mid] = error;
  }
  return errors;
}

interface Span {
  lo: number;
  hi: number;
}
const FULL: Span = { lo: 0, hi: Infinity };
const spanA: Span = { lo: 0, hi: 0 };

/** Narrows `span` (x range of row y) to where the edge p→q has the point on its left: e(x) ≥ 0. */
function clipSpan(
  px: number,
  py: number,
  qx: number,
  qy: number,
  y: number,
  span: Span,
  size?: number,
): Span {
  let { lo, hi } = span;
  if (size !== undefined) hi = size - 1;
  // e(x) = (qx − px)(y − py) − (qy − py)(x − px) ≥ 0  ⇔  d·x ≤ r
  const d = qy - py;
  const r = (qx - px) * (y - py) + d * px;
  if (d > 0) hi = Math.min(hi, Math.floor(r / d));
  else if (d < 0) lo = Math.max(lo, Math.ceil(r / d));
  else if (r < 0) hi = -1;
  spanA.lo = lo;
  spanA.hi = hi;
  return spanA;
}

/** Largest |height − plane| over the grid points of the closed triangle abc (integer coordinates). */
function triangleError(
  h: Float32Array,
  size: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
): number {
  // Oriented so the three edge functions are ≥ 0 inside.
  if ((bx - ax) * (cy - ay) - (by - ay) * (cx - ax) < 0) {
    [bx, cx] = [cx, bx];
    [by, cy] = [cy, by];
  }
  const ha = h[ay * size + ax];
  const hb = h[by * size + bx];
  const hc = h[cy * size + cx];
  // Plane z = ha + gx·(x − ax) + gy·(y − ay) through the three corners.
  const det = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
  const gx = ((hb - ha) * (cy - ay) - (hc - ha) * (by - ay)) / det;
  const gy = ((hc - ha) * (bx - ax) - (hb - ha) * (cx - ax)) / det;
  const y0 = Math.min(ay, by, cy);
  const y1 = Math.max(ay, by, cy);
  let worst = 0;
  for (let y = y0; y <= y1; y++) {
    // Each edge function is linear in x (integers, exact): the span is where all three are ≥ 0.
    const span = clipSpan(
      bx,
      by,
      cx,
      cy,
      y,
      clipSpan(cx, cy, ax, ay, y, clipSpan(ax, ay, bx, by, y, FULL, size)),
    );
    const lo = span.lo;
    const hi = span.hi;
    const row = y * size;
    let plane = ha + gx * (lo - ax) + gy * (y - ay);
    for (let x = lo; x <= hi; x++, plane += gx) {
      const e = Math.abs(h[row + x] - plane);
      if (e > worst) worst = e;
    }
  }
  return worst;
}

/**
 * Visits the leaves of the mesh for `tolerance`: calls emit(a, b, c) with grid indices, counter-
 * clockwise on the image (x right, y down) seen as a map (y up). Stops, returning false, once more
 * than `limit` triangles would be emitted.
 */
function walk(
  errors: Float32Array,
  size: number,
  tolerance: number,
  limit: number,
  emit: ((a: number, b: number, c: number) => void) | null,
): number {
  const tile = size - 1;
  let count = 0;
  // An explicit stack of (ax, ay, bx, by, cx, cy): depth is 2·log2(tile), but recursion costs more.
  const stack: number[] = [0, 0, tile, tile, tile, 0, tile, tile, 0, 0, 0, tile];
  while (stack.length > 0) {
    const cy = stack.pop() as number;
    const cx = stack.pop() as number;
    const by = stack.pop() as number;
    const bx = stack.pop() as number;
    const ay = stack.pop() as number;
    const ax = stack.pop() as number;
    const mx = (ax + bx) >> 1;
    const my = (ay + by) >> 1;
    if (Math.abs(ax - cx) + Math.abs(ay - cy) > 1 && errors[my * size + mx] > tolerance) {
      stack.push(cx, cy, ax, ay, mx, my, bx, by, cx, cy, mx, my);
      continue;
    }
    if (++count > limit) return count;
    if (emit) {
      const a = ay * size + ax;
      const b = by * size + bx;
      const c = cy * size + cx;
      // Signed area in image coordinates (y down) is the opposite of the map's (y up).
      const cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
      if (cross < 0) emit(a, b, c);
      else emit(a, c, b);
    }
  }
  return count;
}

export interface DecimateOptions {
  /** Most triangles in the result (≥ 2). */
  targetTriangles: number;
  /** Tolerance to aim for, µm; the result is coarser only when the target demands. Default 0. */
  maxErrorUm?: number;
}

export interface DecimatedGrid {
  /** Triangles as grid point indices (row-major), counter-clockwise as a map (x right, y up). */
  triangles: Uint32Array;
  /** No grid point is further than this from the mesh, vertically, µm. */
  maxErrorUm: number;
}

/** The finest mesh within `targetTriangles`: the smallest tolerance (from the errors present) that fits. */
export function decimateGrid(heights: Float32Array, size: number, options: DecimateOptions): DecimatedGrid {
  const target = Math.max(2, Math.floor(options.targetTriangles));
  const errors = rtinErrors(heights, size);
  const fits = (tol: number) => walk(errors, size, tol, target, null) <= target;
  let tolerance = Math.max(0, options.maxErrorUm ?? 0);
  if (!fits(tolerance)) {
    // Counts only change at the error values present: binary search them for the smallest that fits.
    const candidates = errors.slice().sort();
    let lo = 0;
    let hi = candidates.length - 1; // the largest error always fits: it leaves the two root triangles
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (candidates[m] > tolerance && fits(candidates[m])) hi = m;
      else lo = m + 1;
    }
    tolerance = candidates[hi];
  }
  const triangles: number[] = [];
  walk(errors, size, tolerance, Infinity, (a, b, c) => triangles.push(a, b, c));
  // The bound actually met is the largest error left unsplit, never more than the tolerance.
  let met = 0;
  for (let t = 0; t < triangles.length; t += 3) met = Math.max(met, leafError(heights, size, triangles, t));
  return { triangles: Uint32Array.from(triangles), maxErrorUm: met };
}

/** The exact error of one output triangle (for the reported bound). */
function leafError(h: Float32Array, size: number, tris: number[], t: number): number {
  const [a, b, c] = [tris[t], tris[t + 1], tris[t + 2]];
  return triangleError(h, size, a % size, (a / size) | 0, b % size, (b / size) | 0, c % size, (c / size) | 0);
}
