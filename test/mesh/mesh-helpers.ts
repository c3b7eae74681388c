// Shared by the mesh tests: synthetic depth inputs with a known surface, a binary STL reader, the
// watertightness check (every edge in exactly two triangles, opposite ways) and mesh height lookup.
import type { DepthInput } from '../../src/mesh/reduce.js';

/** A depth input whose surface is `heightFrames(x, y)` (frame units), fully confident, with a grey ramp image. */
export function syntheticInput(
  width: number,
  height: number,
  heightFrames: (x: number, y: number) => number,
  confidence: (x: number, y: number) => number = () => 255,
): DepthInput {
  const depth = new Float32Array(width * height);
  const conf = new Uint8Array(width * height);
  const image = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      depth[p] = heightFrames(x, y);
      conf[p] = confidence(x, y);
      image[p * 3] = (x * 255) / (width - 1);
      image[p * 3 + 1] = (y * 255) / (height - 1);
      image[p * 3 + 2] = 128;
    }
  }
  return { width, height, depth, confidence: conf, image: { channels: 3, data: image } };
}

export interface ParsedStl {
  header: string;
  normals: Float32Array;
  /** Nine floats per triangle. */
  corners: Float32Array;
}

export function parseStl(data: Buffer): ParsedStl {
  const count = data.readUInt32LE(80);
  if (data.length !== 84 + count * 50) throw new Error(`STL of ${data.length} bytes for ${count} triangles`);
  const normals = new Float32Array(count * 3);
  const corners = new Float32Array(count * 9);
  for (let t = 0; t < count; t++) {
    const o = 84 + t * 50;
    for (let k = 0; k < 3; k++) normals[t * 3 + k] = data.readFloatLE(o + k * 4);
    for (let k = 0; k < 9; k++) corners[t * 9 + k] = data.readFloatLE(o + 12 + k * 4);
  }
  return { header: data.toString('latin1', 0, 80).replace(/\0+$/, ''), normals, corners };
}

/** Merges corners with identical coordinates into indexed vertices (as a slicer does). */
export function weld(corners: Float32Array): { positions: number[][]; triangles: number[][] } {
  const ids = new Map<string, number>();
  const positions: number[][] = [];
  const triangles: number[][] = [];
  for (let t = 0; t < corners.length; t += 9) {
    const tri: number[] = [];
    for (let c = 0; c < 9; c += 3) {
      const p = [corners[t + c], corners[t + c + 1], corners[t + c + 2]];
      const key = p.join(',');
      let id = ids.get(key);
      if (id === undefined) {
        id = positions.length;
        ids.set(key, id);
        positions.push(p);
      }
      tri.push(id);
    }
    triangles.push(tri);
  }
  return { positions, triangles };
}

/**
 * Problems that keep a triangle set from being a closed, consistently oriented 2-manifold: edges
 * not used exactly once in each direction, and triangles with a repeated corner.
 */
export function manifoldProblems(triangles: number[][]): string[] {
  const directed = new Map<string, number>();
  const problems: string[] = [];
  for (const [i, t] of triangles.entries()) {
    if (new Set(t).size !== 3) problems.push(`triangle ${i} repeats a corner: ${t.join(' ')}`);
    for (let e = 0; e < 3; e++) {
      const key = `${t[e]}>${t[(e + 1) % 3]}`;
      directed.set(key, (directed.get(key) ?? 0) + 1);
    }
  }
  for (const [key, n] of directed) {
    const [a, b] = key.split('>');
    const back = directed.get(`${b}>${a}`) ?? 0;
    if (n !== 1 || back !== 1) problems.push(`edge ${a}–${b}: ${n} time(s) this way, ${back} the other`);
  }
  return problems;
}

/** Signed volume enclosed by triangles (positive when they face outwards). */
export function signedVolume(positions: number[][], triangles: number[][]): number {
  let v = 0;
  for (const [a, b, c] of triangles) {
    const [p, q, r] = [positions[a], positions[b], positions[c]];
    v +=
      (p[0] * (q[1] * r[2] - q[2] * r[1]) -
        p[1] * (q[0] * r[2] - q[2] * r[0]) +
        p[2] * (q[0] * r[1] - q[1] * r[0])) /
      6;
  }
  return v;
}

/**
 * Heights of a triangulated height field at every integer point (x, y) of a width × height raster
 * (vertices' x and y in raster units), by barycentric interpolation; NaN where no triangle covers a point.
 * `covered` counts the triangles containing each point, edges included.
 */
export function rasterHeights(
  vertices: Float32Array,
  triangles: Uint32Array,
  width: number,
  height: number,
): { heights: Float64Array; covered: Uint8Array } {
  const heights = new Float64Array(width * height).fill(Number.NaN);
  const covered = new Uint8Array(width * height);
  const eps = 1e-6;
  for (let t = 0; t < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t] * 3, triangles[t + 1] * 3, triangles[t + 2] * 3];
    const [ax, ay, bx, by, cx, cy] = [
      vertices[a],
      vertices[a + 1],
      vertices[b],
      vertices[b + 1],
      vertices[c],
      vertices[c + 1],
    ];
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    for (
      let y = Math.max(0, Math.floor(Math.min(ay, by, cy)));
      y <= Math.min(height - 1, Math.ceil(Math.max(ay, by, cy)));
      y++
    ) {
      for (
        let x = Math.max(0, Math.floor(Math.min(ax, bx, cx)));
        x <= Math.min(width - 1, Math.ceil(Math.max(ax, bx, cx)));
        x++
      ) {
        const wa = ((bx - x) * (cy - y) - (by - y) * (cx - x)) / area;
        const wb = ((cx - x) * (ay - y) - (cy - y) * (ax - x)) / area;
        const wc = 1 - wa - wb;
        if (wa < -eps || wb < -eps || wc < -eps) continue;
        heights[y * width + x] = wa * vertices[a + 2] + wb * vertices[b + 2] + wc * vertices[c + 2];
        covered[y * width + x]++;
      }
    }
  }
  return { heights, covered };
}
