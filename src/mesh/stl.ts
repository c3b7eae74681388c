// Binary STL (the format every slicer reads): an 80-byte header, a triangle count, then per triangle
// its unit normal, three corners (float32) and a zero attribute word. Units are millimetres.
import type { IndexedMesh } from './solid.js';

const HEADER_BYTES = 80;
const TRIANGLE_BYTES = 50;

/** Encodes triangles (counter-clockwise from outside) as binary STL; `header` is cut to 80 ASCII bytes. */
export function encodeStl(mesh: IndexedMesh, header = 'stackscope mesh'): Buffer {
  const { positions: p, triangles: t } = mesh;
  const count = t.length / 3;
  const out = Buffer.alloc(HEADER_BYTES + 4 + count * TRIANGLE_BYTES);
  // "solid" at the start makes some readers take a binary file for ASCII STL.
  out.write(
    header
      .replace(/^solid/i, 'mesh')
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, HEADER_BYTES),
    0,
    'ascii',
  );
  out.writeUInt32LE(count, HEADER_BYTES);
  let o = HEADER_BYTES + 4;
  for (let k = 0; k < t.length; k += 3) {
    const a = t[k] * 3;
    const b = t[k + 1] * 3;
    const c = t[k + 2] * 3;
    const [ux, uy, uz] = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
    const [vx, vy, vz] = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
    let [nx, ny, nz] = [uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx];
    const len = Math.hypot(nx, ny, nz) || 1;
    [nx, ny, nz] = [nx / len, ny / len, nz / len];
    out.writeFloatLE(nx, o);
    out.writeFloatLE(ny, o + 4);
    out.writeFloatLE(nz, o + 8);
    o += 12;
    for (const v of [a, b, c]) {
      out.writeFloatLE(p[v], o);
      out.writeFloatLE(p[v + 1], o + 4);
      out.writeFloatLE(p[v + 2], o + 8);
      o += 12;
    }
    out.writeUInt16LE(0, o);
    o += 2;
  }
  return out;
}
