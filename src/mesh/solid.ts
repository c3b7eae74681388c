// Closes a height-field surface into a printable solid: vertical walls down from its rectangular rim
// and a flat bottom `base` below its lowest point. Every edge of the result is shared by exactly two
// triangles, all facing outwards, and the bottom sits at z = 0.

export interface IndexedMesh {
  /** x, y, z per vertex. */
  positions: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside. */
  triangles: Uint32Array;
}

const LEFT = 1;
const RIGHT = 2;
const FRONT = 4;
const BACK = 8;

/**
 * `surface` is z-up with counter-clockwise triangles seen from above, spanning an axis-aligned
 * rectangle in x and y whose every rim vertex lies exactly on the rectangle's sides (a grid mesh).
 */
export function closeWithBase(surface: IndexedMesh, base: number): IndexedMesh {
  const { positions: p, triangles: t } = surface;
  const n = p.length / 3;
  let [minX, maxX, minY, maxY, minZ] = [Infinity, -Infinity, Infinity, -Infinity, Infinity];
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [p[i * 3], p[i * 3 + 1], p[i * 3 + 2]];
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
    minZ = Math.min(minZ, z);
  }
  // Rim vertices are recognised by coordinates equal to the extremes: the grid computes every point
  // of a side with the same arithmetic, so they compare equal exactly.
  const side = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [x, y] = [p[i * 3], p[i * 3 + 1]];
    side[i] =
      (x === minX ? LEFT : 0) | (x === maxX ? RIGHT : 0) | (y === minY ? FRONT : 0) | (y === maxY ? BACK : 0);
  }
  // An edge whose two ends share a side runs along the rim; its triangle's winding leaves the inside on
  // its left, so the wall below it faces out.
  const rim: number[] = [];
  for (let k = 0; k < t.length; k += 3) {
    for (let e = 0; e < 3; e++) {
      const a = t[k + e];
      const b = t[k + ((e + 1) % 3)];
      if (side[a] & side[b]) rim.push(a, b);
    }
  }
  const below = new Int32Array(n).fill(-1);
  let count = n;
  for (const v of rim) if (below[v] < 0) below[v] = count++;
  const centre = count++;
  const bottom = minZ - base;
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < n; i++) {
    positions[i * 3] = p[i * 3];
    positions[i * 3 + 1] = p[i * 3 + 1];
    positions[i * 3 + 2] = p[i * 3 + 2] - bottom;
    if (below[i] >= 0) {
      positions[below[i] * 3] = p[i * 3];
      positions[below[i] * 3 + 1] = p[i * 3 + 1];
      positions[below[i] * 3 + 2] = 0;
    }
  }
  positions[centre * 3] = (minX + maxX) / 2;
  positions[centre * 3 + 1] = (minY + maxY) / 2;
  positions[centre * 3 + 2] = 0;
  const triangles = new Uint32Array(t.length + (rim.length / 2) * 9);
  triangles.set(t);
  let o = t.length;
  for (let k = 0; k < rim.length; k += 2) {
    const [a, b] = [rim[k], rim[k + 1]];
    const [a2, b2] = [below[a], below[b]];
    // Wall quad a, b, b', a' (outward), then the bottom fan triangle towards the centre (facing down).
    triangles.set([a, a2, b2, a, b2, b, centre, b2, a2], o);
    o += 9;
  }
  return { positions, triangles };
}
