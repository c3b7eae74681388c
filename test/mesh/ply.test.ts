// The PLY export: a binary little-endian file whose header declares exactly what follows, vertices in
// mm with the colour of the stacked image under them, and triangles indexing those vertices.
import { describe, expect, it } from 'vitest';
import { buildTerrainMesh } from '../../src/mesh/build.js';
import { encodeMesh } from '../../src/mesh/encode.js';
import { syntheticInput } from './mesh-helpers.js';

interface ParsedPly {
  comments: string[];
  positions: Float32Array;
  colours: Uint8Array;
  faces: number[][];
}

function parsePly(data: Buffer): ParsedPly {
  const end = data.indexOf('end_header\n');
  const lines = data.toString('ascii', 0, end).trim().split('\n');
  expect(lines.slice(0, 2)).toEqual(['ply', 'format binary_little_endian 1.0']);
  const count = (element: string) =>
    Number(lines.find((l) => l.startsWith(`element ${element} `))?.split(' ')[2]);
  expect(lines.filter((l) => l.startsWith('property'))).toEqual([
    'property float x',
    'property float y',
    'property float z',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    'property list uchar uint vertex_indices',
  ]);
  const [vertices, faceCount] = [count('vertex'), count('face')];
  let o = end + 'end_header\n'.length;
  const positions = new Float32Array(vertices * 3);
  const colours = new Uint8Array(vertices * 3);
  for (let i = 0; i < vertices; i++, o += 15) {
    for (let k = 0; k < 3; k++) positions[i * 3 + k] = data.readFloatLE(o + k * 4);
    for (let k = 0; k < 3; k++) colours[i * 3 + k] = data[o + 12 + k];
  }
  const faces: number[][] = [];
  for (let f = 0; f < faceCount; f++, o += 13) {
    expect(data[o]).toBe(3);
    faces.push([data.readUInt32LE(o + 1), data.readUInt32LE(o + 5), data.readUInt32LE(o + 9)]);
  }
  expect(o).toBe(data.length);
  const comments = lines.filter((l) => l.startsWith('comment ')).map((l) => l.slice(8));
  return { comments, positions, colours, faces };
}

describe('PLY export', () => {
  const W = 64;
  const H = 48;
  const input = syntheticInput(W, H, (x, y) => 2 + Math.sin(x / 9) * Math.cos(y / 7));
  const mesh = buildTerrainMesh(input, { umPerPixel: 2, umPerFrame: 10 }, { targetTriangles: 800 });
  const image = { width: W, height: H, channels: 3 as const, data: input.image.data };
  const ply = parsePly(encodeMesh(mesh, 'ply', { image }));

  it('declares exactly the vertices and faces it holds, faces indexing real vertices', () => {
    expect(ply.positions.length).toBe(mesh.vertices.length);
    expect(ply.faces.length).toBe(mesh.triangles.length / 3);
    for (const f of ply.faces) for (const v of f) expect(v).toBeLessThan(ply.positions.length / 3);
  });

  it('places vertices in mm and colours each with the stacked image under it', () => {
    for (let v = 0; v < mesh.vertices.length / 3; v++) {
      const [x, y, h] = [mesh.vertices[v * 3], mesh.vertices[v * 3 + 1], mesh.vertices[v * 3 + 2]];
      expect(ply.positions[v * 3]).toBeCloseTo(x * 0.002, 6);
      expect(ply.positions[v * 3 + 1]).toBeCloseTo((H - 1 - y) * 0.002, 6);
      expect(ply.positions[v * 3 + 2]).toBeCloseTo(h * 0.001, 6);
      // The test image is red = x ramp, green = y ramp, blue 128.
      const p = (Math.round(y) * W + Math.round(x)) * 3;
      expect([...ply.colours.subarray(v * 3, v * 3 + 3)]).toEqual([...input.image.data.subarray(p, p + 3)]);
    }
  });

  it('records the calibration and the error bound in its comments', () => {
    expect(ply.comments).toContain('stackscope');
    expect(ply.comments).toContain('umPerPixel 2');
    expect(ply.comments).toContain('umPerFrame 10');
    expect(ply.comments.some((c) => /^maxErrorUm [\d.e-]+$/.test(c))).toBe(true);
  });
});
