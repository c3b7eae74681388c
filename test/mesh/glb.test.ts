// The GLB export, checked structurally by a minimal glTF 2.0 reader written here: header, JSON and BIN
// chunks, buffer views and accessors within their buffers, indices within the vertices, and a round
// trip of positions, texture coordinates, indices and the embedded JPEG texture.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildTerrainMesh } from '../../src/mesh/build.js';
import { encodeMesh } from '../../src/mesh/encode.js';
import { CHUNK_BIN, CHUNK_JSON, encodeGlb, GLB_MAGIC } from '../../src/mesh/glb.js';
import { textureJpegOf } from '../../src/mesh/mesh-files.js';
import { placeVertices, textureCoords } from '../../src/mesh/place.js';
import { syntheticInput } from './mesh-helpers.js';

interface Gltf {
  asset: { version: string; extras?: Record<string, unknown> };
  buffers: { byteLength: number }[];
  bufferViews: { buffer: number; byteOffset: number; byteLength: number; target?: number }[];
  accessors: {
    bufferView: number;
    componentType: number;
    count: number;
    type: string;
    min?: number[];
    max?: number[];
  }[];
  meshes: {
    primitives: { attributes: Record<string, number>; indices: number; material: number; mode: number }[];
  }[];
  materials: { pbrMetallicRoughness: { baseColorTexture?: { index: number } } }[];
  textures?: { source: number; sampler: number }[];
  images?: { bufferView: number; mimeType: string }[];
}

const COMPONENTS: Record<string, number> = { SCALAR: 1, VEC2: 2, VEC3: 3 };
const TYPES: Record<number, { bytes: number; read: (b: Buffer, o: number) => number }> = {
  5126: { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  5125: { bytes: 4, read: (b, o) => b.readUInt32LE(o) },
  5123: { bytes: 2, read: (b, o) => b.readUInt16LE(o) },
};

/** Reads a .glb, checking its framing, and returns the JSON, the BIN chunk and an accessor reader. */
function readGlb(file: Buffer) {
  expect(file.readUInt32LE(0)).toBe(GLB_MAGIC);
  expect(file.readUInt32LE(4)).toBe(2);
  expect(file.readUInt32LE(8)).toBe(file.length);
  const jsonLength = file.readUInt32LE(12);
  expect(file.readUInt32LE(16)).toBe(CHUNK_JSON);
  expect(jsonLength % 4).toBe(0);
  const json = JSON.parse(file.toString('utf8', 20, 20 + jsonLength)) as Gltf;
  const binAt = 20 + jsonLength;
  const binLength = file.readUInt32LE(binAt);
  expect(file.readUInt32LE(binAt + 4)).toBe(CHUNK_BIN);
  expect(binLength % 4).toBe(0);
  expect(binAt + 8 + binLength).toBe(file.length);
  const bin = file.subarray(binAt + 8);
  expect(json.asset.version).toBe('2.0');
  expect(json.buffers).toHaveLength(1);
  expect(json.buffers[0].byteLength).toBeLessThanOrEqual(binLength);
  for (const view of json.bufferViews) {
    expect(view.buffer).toBe(0);
    expect(view.byteOffset % 4).toBe(0);
    expect(view.byteOffset + view.byteLength).toBeLessThanOrEqual(json.buffers[0].byteLength);
  }
  const read = (index: number): number[] => {
    const a = json.accessors[index];
    const view = json.bufferViews[a.bufferView];
    const type = TYPES[a.componentType];
    expect(type, `accessor ${index} component type ${a.componentType}`).toBeDefined();
    const n = a.count * COMPONENTS[a.type];
    expect(n * type.bytes).toBeLessThanOrEqual(view.byteLength);
    return Array.from({ length: n }, (_, i) => type.read(bin, view.byteOffset + i * type.bytes));
  };
  return { json, bin, read };
}

describe('GLB export', async () => {
  const W = 80;
  const H = 60;
  const input = syntheticInput(W, H, (x, y) => 3 + 2 * Math.exp(-((x - 40) ** 2 + (y - 30) ** 2) / 300));
  const mesh = buildTerrainMesh(
    input,
    { umPerPixel: 4, umPerFrame: 20, zScale: 3 },
    { targetTriangles: 600 },
  );
  const image = { width: W, height: H, channels: 3 as const, bitDepth: 8 as const, data: input.image.data };
  const textureJpeg = await textureJpegOf(image);
  const { json, bin, read } = readGlb(encodeMesh(mesh, 'glb', { textureJpeg }));
  const primitive = json.meshes[0].primitives[0];

  it('frames one triangle-list primitive whose accessors all lie inside their views', () => {
    expect(primitive.mode).toBe(4);
    expect(Object.keys(primitive.attributes).sort()).toEqual(['NORMAL', 'POSITION', 'TEXCOORD_0']);
    for (const index of [...Object.values(primitive.attributes), primitive.indices]) read(index);
  });

  it('round-trips positions (y up, metres, min/max declared) and indices', () => {
    const positions = read(primitive.attributes.POSITION);
    const expected = placeVertices(mesh, { up: 'y', unitsPerUm: 1e-6 });
    expect(positions).toEqual(Array.from(expected));
    const accessor = json.accessors[primitive.attributes.POSITION];
    for (let k = 0; k < 3; k++) {
      const axis = positions.filter((_, i) => i % 3 === k);
      expect(accessor.min?.[k]).toBe(Math.min(...axis));
      expect(accessor.max?.[k]).toBe(Math.max(...axis));
    }
    // Height is y: zScale 3 × the 20 µm-per-frame surface, 60–100 µm → 180–300 µm.
    expect(accessor.min?.[1]).toBeGreaterThan(179e-6);
    expect(accessor.max?.[1]).toBeLessThan(301e-6);
    const indices = read(primitive.indices);
    expect(indices).toEqual(Array.from(mesh.triangles));
    expect(Math.max(...indices)).toBeLessThan(positions.length / 3);
    expect(json.accessors[primitive.indices].componentType).toBe(5123);
  });

  it('has unit normals facing up and texture coordinates inside the picture', () => {
    const normals = read(primitive.attributes.NORMAL);
    for (let i = 0; i < normals.length; i += 3) {
      expect(Math.hypot(normals[i], normals[i + 1], normals[i + 2])).toBeCloseTo(1, 5);
      expect(normals[i + 1]).toBeGreaterThan(0);
    }
    const uvs = read(primitive.attributes.TEXCOORD_0);
    expect(uvs).toEqual(Array.from(textureCoords(mesh)));
    for (const v of uvs) expect(v > 0 && v < 1).toBe(true);
  });

  it('embeds the stacked image as a JPEG texture of the picture’s size', async () => {
    const textureIndex =
      json.materials[primitive.material].pbrMetallicRoughness.baseColorTexture?.index ?? -1;
    const source = json.textures?.[textureIndex]?.source ?? -1;
    const img = json.images?.[source];
    expect(img?.mimeType).toBe('image/jpeg');
    const view = json.bufferViews[img?.bufferView ?? -1];
    const jpeg = bin.subarray(view.byteOffset, view.byteOffset + view.byteLength);
    expect(jpeg.equals(textureJpeg)).toBe(true);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', W, H]);
  });

  it('carries the calibration and the error bound in asset.extras', () => {
    expect(json.asset.extras).toMatchObject({ unit: 'm', umPerPixel: 4, umPerFrame: 20, zScale: 3 });
    expect(json.asset.extras?.maxErrorUm).toBeCloseTo(mesh.maxErrorUm, 4);
  });

  it('switches to 32-bit indices past 65 535 vertices, and works untextured', () => {
    const count = 70_000;
    const positions = Float32Array.from({ length: count * 3 }, (_, i) => (i % 3 === 1 ? 0 : i / 3));
    const triangles = Uint32Array.from([0, 1, count - 1]);
    const glb = readGlb(encodeGlb({ mesh: { positions, triangles } }));
    const p = glb.json.meshes[0].primitives[0];
    expect(glb.json.accessors[p.indices].componentType).toBe(5125);
    expect(glb.read(p.indices)).toEqual([0, 1, count - 1]);
    expect(p.attributes.TEXCOORD_0).toBeUndefined();
    expect(glb.json.images).toBeUndefined();
  });

  it('shrinks a texture larger than 4096 pixels to fit', async () => {
    const big = {
      width: 5000,
      height: 100,
      channels: 1 as const,
      bitDepth: 16 as const,
      data: new Uint16Array(5000 * 100).fill(40000),
    };
    const meta = await sharp(await textureJpegOf(big)).metadata();
    expect([meta.width, meta.height]).toEqual([4096, 82]);
  });
});
