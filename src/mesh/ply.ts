// Binary little-endian PLY with per-vertex colour (MeshLab, CloudCompare, Blender read it): float
// positions, 8-bit RGB, and triangles as index lists.
import type { IndexedMesh } from './solid.js';

const VERTEX_BYTES = 3 * 4 + 3;
const FACE_BYTES = 1 + 3 * 4;

export function encodePly(mesh: IndexedMesh, colours: Uint8Array, comments: string[] = []): Buffer {
  const { positions: p, triangles: t } = mesh;
  const vertices = p.length / 3;
  const faces = t.length / 3;
  if (colours.length !== vertices * 3)
    throw new RangeError(`${colours.length / 3} colours for ${vertices} vertices`);
  const header = [
    'ply',
    'format binary_little_endian 1.0',
    // A comment is one line: newlines inside would end it and corrupt the header.
    ...comments.map((c) => `comment ${c.replace(/[\r\n]+/g, ' ')}`),
    `element vertex ${vertices}`,
    'property float x',
    'property float y',
    'property float z',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    `element face ${faces}`,
    'property list uchar uint vertex_indices',
    'end_header',
    '',
  ].join('\n');
  const head = Buffer.from(header, 'ascii');
  const out = Buffer.alloc(head.length + vertices * VERTEX_BYTES + faces * FACE_BYTES);
  head.copy(out);
  let o = head.length;
  for (let i = 0; i < vertices; i++) {
    out.writeFloatLE(p[i * 3], o);
    out.writeFloatLE(p[i * 3 + 1], o + 4);
    out.writeFloatLE(p[i * 3 + 2], o + 8);
    out[o + 12] = colours[i * 3];
    out[o + 13] = colours[i * 3 + 1];
    out[o + 14] = colours[i * 3 + 2];
    o += VERTEX_BYTES;
  }
  for (let k = 0; k < t.length; k += 3) {
    out[o] = 3;
    out.writeUInt32LE(t[k], o + 1);
    out.writeUInt32LE(t[k + 1], o + 5);
    out.writeUInt32LE(t[k + 2], o + 9);
    o += FACE_BYTES;
  }
  return out;
}
