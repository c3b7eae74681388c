// Binary glTF 2.0 (.glb) for the web viewer (three.js GLTFLoader): one mesh with positions, smooth
// normals, texture coordinates and indices, textured with the stacked image as an embedded JPEG.
// Layout: 12-byte header, JSON chunk (space-padded), BIN chunk (zero-padded), every part 4-aligned.
import type { IndexedMesh } from './solid.js';

export const GLB_MAGIC = 0x46546c67; // 'glTF'
export const CHUNK_JSON = 0x4e4f534a; // 'JSON'
export const CHUNK_BIN = 0x004e4942; // 'BIN\0'

const FLOAT = 5126;
const UNSIGNED_SHORT = 5123;
const UNSIGNED_INT = 5125;
const ARRAY_BUFFER = 34962;
const ELEMENT_ARRAY_BUFFER = 34963;

export interface GlbInput {
  /** y-up, metres, counter-clockwise front faces. */
  mesh: IndexedMesh;
  /** Texture coordinates, two per vertex ((0, 0) = the image's top-left). */
  uvs?: Float32Array;
  /** The stacked image as a JPEG file. */
  textureJpeg?: Buffer;
  /** Written to asset.extras: calibration and error bound, for whoever opens the file. */
  extras?: Record<string, unknown>;
}

/** Area-weighted vertex normals: each triangle adds its (unnormalised) cross product to its corners. */
export function vertexNormals({ positions: p, triangles: t }: IndexedMesh): Float32Array {
  const normals = new Float32Array(p.length);
  for (let k = 0; k < t.length; k += 3) {
    const [a, b, c] = [t[k] * 3, t[k + 1] * 3, t[k + 2] * 3];
    const [ux, uy, uz] = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
    const [vx, vy, vz] = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
    const [nx, ny, nz] = [uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx];
    for (const v of [a, b, c]) {
      normals[v] += nx;
      normals[v + 1] += ny;
      normals[v + 2] += nz;
    }
  }
  for (let i = 0; i < normals.length; i += 3) {
    const len = Math.hypot(normals[i], normals[i + 1], normals[i + 2]) || 1;
    normals[i] /= len;
    normals[i + 1] /= len;
    normals[i + 2] /= len;
  }
  return normals;
}

const pad4 = (n: number) => (n + 3) & ~3;

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

export function encodeGlb({ mesh, uvs, textureJpeg, extras }: GlbInput): Buffer {
  const { positions, triangles } = mesh;
  const vertexCount = positions.length / 3;
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i++) {
    min[i % 3] = Math.min(min[i % 3], positions[i]);
    max[i % 3] = Math.max(max[i % 3], positions[i]);
  }
  const indices = vertexCount <= 0xffff ? Uint16Array.from(triangles) : triangles;
  const parts: { data: Buffer; target?: number }[] = [
    { data: bytesOf(positions), target: ARRAY_BUFFER },
    { data: bytesOf(vertexNormals(mesh)), target: ARRAY_BUFFER },
  ];
  const textured = uvs !== undefined && textureJpeg !== undefined;
  if (textured) parts.push({ data: bytesOf(uvs), target: ARRAY_BUFFER });
  parts.push({ data: bytesOf(indices), target: ELEMENT_ARRAY_BUFFER });
  if (textured) parts.push({ data: textureJpeg });
  const bufferViews: Record<string, number>[] = [];
  let offset = 0;
  for (const part of parts) {
    bufferViews.push({
      buffer: 0,
      byteOffset: offset,
      byteLength: part.data.length,
      ...(part.target ? { target: part.target } : {}),
    });
    offset = pad4(offset + part.data.length);
  }
  const accessors: Record<string, unknown>[] = [
    { bufferView: 0, componentType: FLOAT, count: vertexCount, type: 'VEC3', min, max },
    { bufferView: 1, componentType: FLOAT, count: vertexCount, type: 'VEC3' },
  ];
  if (textured) accessors.push({ bufferView: 2, componentType: FLOAT, count: vertexCount, type: 'VEC2' });
  accessors.push({
    bufferView: textured ? 3 : 2,
    componentType: indices instanceof Uint16Array ? UNSIGNED_SHORT : UNSIGNED_INT,
    count: triangles.length,
    type: 'SCALAR',
  });
  const attributes: Record<string, number> = {
    POSITION: 0,
    NORMAL: 1,
    ...(textured ? { TEXCOORD_0: 2 } : {}),
  };
  const pbr = textured
    ? { baseColorTexture: { index: 0 }, metallicFactor: 0, roughnessFactor: 1 }
    : { baseColorFactor: [0.8, 0.8, 0.8, 1], metallicFactor: 0, roughnessFactor: 1 };
  const json = {
    asset: { version: '2.0', generator: 'stackscope', ...(extras ? { extras } : {}) },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0, name: 'surface' }],
    meshes: [{ primitives: [{ attributes, indices: accessors.length - 1, material: 0, mode: 4 }] }],
    // Double-sided: the relief is an open surface, its underside is seen when the viewer orbits below.
    materials: [{ pbrMetallicRoughness: pbr, doubleSided: true }],
    ...(textured
      ? {
          textures: [{ sampler: 0, source: 0 }],
          // Linear mipmapped filtering, clamped: the picture must not wrap around at the rim.
          samplers: [{ magFilter: 9729, minFilter: 9987, wrapS: 33071, wrapT: 33071 }],
          images: [{ bufferView: 4, mimeType: 'image/jpeg' }],
        }
      : {}),
    buffers: [{ byteLength: offset }],
    bufferViews,
    accessors,
  };
  const jsonBytes = Buffer.from(JSON.stringify(json), 'utf8');
  const jsonLength = pad4(jsonBytes.length);
  const total = 12 + 8 + jsonLength + 8 + offset;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(GLB_MAGIC, 0);
  out.writeUInt32LE(2, 4);
  out.writeUInt32LE(total, 8);
  out.writeUInt32LE(jsonLength, 12);
  out.writeUInt32LE(CHUNK_JSON, 16);
  jsonBytes.copy(out, 20);
  out.fill(0x20, 20 + jsonBytes.length, 20 + jsonLength);
  const bin = 20 + jsonLength;
  out.writeUInt32LE(offset, bin);
  out.writeUInt32LE(CHUNK_BIN, bin + 4);
  for (let i = 0; i < parts.length; i++) parts[i].data.copy(out, bin + 8 + bufferViews[i].byteOffset);
  return out;
}
