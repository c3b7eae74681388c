// The RTIN decimator: triangle budget kept, every grid point within the reported error bound of the
// mesh (checked by rasterising the mesh over the whole grid), the bound shrinking as the budget grows,
// and no cracks (T-junctions) between neighbouring triangles.
import { describe, expect, it } from 'vitest';
import { decimateGrid, rtinErrors } from '../../src/mesh/decimate.js';
import { makeScene } from '../../src/rig/simulated/scene.js';
import { rasterHeights } from './mesh-helpers.js';

const SIZE = 129;

function gridOf(f: (x: number, y: number) => number, size = SIZE): Float32Array {
  const h = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) h[y * size + x] = f(x, y);
  return h;
}

/** Grid indices → vertices (x, y, height) in grid units, for the rasteriser. */
function verticesOf(heights: Float32Array, size: number): Float32Array {
  const v = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) v.set([i % size, Math.floor(i / size), heights[i]], i * 3);
  return v;
}

function worstDeviation(heights: Float32Array, size: number, triangles: Uint32Array): number {
  const { heights: mesh, covered } = rasterHeights(verticesOf(heights, size), triangles, size, size);
  let worst = 0;
  let uncovered = 0;
  for (let i = 0; i < heights.length; i++) {
    if (!covered[i]) uncovered++;
    worst = Math.max(worst, Math.abs(mesh[i] - heights[i]));
  }
  expect(uncovered).toBe(0);
  return worst;
}

// The simulated specimen: hills on a tilted plane plus a plateau with a true step (0–100 µm).
const scene = makeScene({ width: SIZE, height: SIZE, seed: 4, depthRangeUm: 100 });
const sceneHeights = scene.depthUm;

describe('decimateGrid', () => {
  it.each([20, 200, 2000, 20000])(
    'keeps within %i triangles and every grid point within the reported bound',
    (target) => {
      const { triangles, maxErrorUm } = decimateGrid(sceneHeights, SIZE, { targetTriangles: target });
      expect(triangles.length / 3).toBeLessThanOrEqual(target);
      expect(triangles.length / 3).toBeGreaterThan(target / 4);
      const worst = worstDeviation(sceneHeights, SIZE, triangles);
      expect(worst).toBeLessThanOrEqual(maxErrorUm + 1e-4);
      // The bound is the mesh's true error, not a loose over-estimate.
      expect(worst).toBeGreaterThanOrEqual(maxErrorUm - 1e-4);
    },
  );

  it('trades triangles for error monotonically, down to exact at the full grid', () => {
    const errors = [50, 500, 5000, 2 * (SIZE - 1) ** 2].map(
      (target) => decimateGrid(sceneHeights, SIZE, { targetTriangles: target }).maxErrorUm,
    );
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThanOrEqual(errors[i - 1]);
    expect(errors[0]).toBeGreaterThan(errors[2]);
    expect(errors[3]).toBe(0);
  });

  it('stops refining at the tolerance asked for, well inside the budget on a smooth surface', () => {
    const hill = gridOf((x, y) => 80 * Math.exp(-((x - 60) ** 2 + (y - 70) ** 2) / (2 * 25 ** 2)));
    const { triangles, maxErrorUm } = decimateGrid(hill, SIZE, { targetTriangles: 1e6, maxErrorUm: 0.5 });
    expect(maxErrorUm).toBeLessThanOrEqual(0.5);
    expect(worstDeviation(hill, SIZE, triangles)).toBeLessThanOrEqual(0.5 + 1e-4);
    // A 0.5 µm tolerance on an 80 µm hill needs a small fraction of the 32 768 grid triangles.
    expect(triangles.length / 3).toBeLessThan(0.2 * 2 * (SIZE - 1) ** 2);
  });

  it('meshes a tilted plane with its two corner triangles', () => {
    const plane = gridOf((x, y) => 3 + 0.25 * x - 0.5 * y);
    const { triangles, maxErrorUm } = decimateGrid(plane, SIZE, { targetTriangles: 1000 });
    expect(triangles.length).toBe(6);
    expect(maxErrorUm).toBeLessThan(1e-4);
  });

  it('leaves no cracks: an edge is shared by two triangles unless it lies on the border', () => {
    const { triangles } = decimateGrid(sceneHeights, SIZE, { targetTriangles: 3000 });
    const directed = new Set<string>();
    for (let t = 0; t < triangles.length; t += 3)
      for (let e = 0; e < 3; e++) directed.add(`${triangles[t + e]}>${triangles[t + ((e + 1) % 3)]}`);
    const last = SIZE - 1;
    const onBorder = (a: number, b: number) => {
      const [ax, ay, bx, by] = [a % SIZE, Math.floor(a / SIZE), b % SIZE, Math.floor(b / SIZE)];
      return (ax === bx && (ax === 0 || ax === last)) || (ay === by && (ay === 0 || ay === last));
    };
    let rim = 0;
    for (const key of directed) {
      const [a, b] = key.split('>').map(Number);
      if (directed.has(`${b}>${a}`)) continue;
      expect(onBorder(a, b), `edge ${a}–${b} has one triangle but is inside the grid`).toBe(true);
      rim++;
    }
    // The rim is the whole border, once around: its edges add up to 4 sides of SIZE − 1 cells.
    let length = 0;
    for (const key of directed) {
      const [a, b] = key.split('>').map(Number);
      if (!directed.has(`${b}>${a}`))
        length += Math.abs((a % SIZE) - (b % SIZE)) + Math.abs(Math.floor(a / SIZE) - Math.floor(b / SIZE));
    }
    expect(rim).toBeGreaterThan(4);
    expect(length).toBe(4 * last);
  });

  it('winds every triangle counter-clockwise as a map (image y down, so clockwise in pixels)', () => {
    const { triangles } = decimateGrid(sceneHeights, SIZE, { targetTriangles: 500 });
    for (let t = 0; t < triangles.length; t += 3) {
      const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]].map((i) => [
        i % SIZE,
        Math.floor(i / SIZE),
      ]);
      const crossInPixels = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
      expect(crossInPixels).toBeLessThan(0);
    }
  });

  it('refuses a grid that is not (2^k + 1) points a side', () => {
    expect(() => rtinErrors(new Float32Array(100 * 100), 100)).toThrow(/2\^k \+ 1/);
  });
});
