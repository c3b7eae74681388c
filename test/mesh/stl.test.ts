// The printable STL: a closed, consistently oriented solid (every edge in exactly two triangles, once
// each way), facing outwards, standing on z = 0 with its base, in mm times the print scale.
import { describe, expect, it } from 'vitest';
import { buildTerrainMesh } from '../../src/mesh/build.js';
import { encodeMesh } from '../../src/mesh/encode.js';
import { makeScene } from '../../src/rig/simulated/scene.js';
import { manifoldProblems, parseStl, signedVolume, syntheticInput, weld } from './mesh-helpers.js';

const W = 150;
const H = 110;
const scene = makeScene({ width: W, height: H, seed: 2, depthRangeUm: 80 });
const UM_PER_FRAME = 8;
const UM_PER_PIXEL = 3;
const input = syntheticInput(W, H, (x, y) => scene.depthUm[y * W + x] / UM_PER_FRAME);
// No smoothing: the heights are the scene's, so the model's height can be checked exactly.
const mesh = buildTerrainMesh(
  input,
  { umPerPixel: UM_PER_PIXEL, umPerFrame: UM_PER_FRAME },
  { targetTriangles: 3000, smoothRadius: 0 },
);

describe('STL export', () => {
  const scale = 20;
  const baseMm = 1.5;
  const stl = parseStl(encodeMesh(mesh, 'stl', { scale, baseMm }));
  const { positions, triangles } = weld(stl.corners);

  it('is watertight and manifold: every edge shared by exactly two triangles, in opposite directions', () => {
    expect(manifoldProblems(triangles)).toEqual([]);
    // The surface plus, per rim edge, two wall triangles and one bottom triangle.
    expect(triangles.length).toBeGreaterThan(mesh.triangles.length / 3);
    expect((triangles.length - mesh.triangles.length / 3) % 3).toBe(0);
  });

  it('faces outwards: positive volume, stored normals agree with the winding', () => {
    expect(signedVolume(positions, triangles)).toBeGreaterThan(0);
    for (let t = 0; t < triangles.length; t++) {
      const c = stl.corners.subarray(t * 9, t * 9 + 9);
      const u = [c[3] - c[0], c[4] - c[1], c[5] - c[2]];
      const v = [c[6] - c[0], c[7] - c[1], c[8] - c[2]];
      const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
      const len = Math.hypot(...n);
      expect(len).toBeGreaterThan(0);
      const dot =
        (n[0] * stl.normals[t * 3] + n[1] * stl.normals[t * 3 + 1] + n[2] * stl.normals[t * 3 + 2]) / len;
      expect(dot).toBeGreaterThan(0.999);
    }
  });

  it('has the specimen’s size times the scale, in mm, on a base standing at z = 0', () => {
    const axis = (k: number) => positions.map((p) => p[k]);
    const mm = (um: number) => (um / 1000) * scale;
    expect(Math.min(...axis(0))).toBe(0);
    expect(Math.max(...axis(0))).toBeCloseTo(mm((W - 1) * UM_PER_PIXEL), 4);
    expect(Math.min(...axis(1))).toBe(0);
    expect(Math.max(...axis(1))).toBeCloseTo(mm((H - 1) * UM_PER_PIXEL), 4);
    expect(Math.min(...axis(2))).toBe(0);
    // The relief's lowest point stands baseMm above the bed and its top 80 µm × scale higher.
    const lowestTop = Math.min(...stl.corners.filter((_, i) => i % 3 === 2).filter((z) => z > 0));
    expect(lowestTop).toBeCloseTo(baseMm, 3);
    expect(Math.max(...axis(2))).toBeCloseTo(baseMm + mm(80), 2);
  });

  it('says what it is in the header, without starting with "solid"', () => {
    expect(stl.header).toMatch(/^stackscope /);
    expect(stl.header).toMatch(/um\/px=3 um\/frame=8 zScale=1 scale=20 errorUm=[\d.e-]+$/);
    expect(stl.header.length).toBeLessThanOrEqual(80);
  });

  it('stays closed for a flat map and for the coarsest mesh', () => {
    for (const target of [2, 40]) {
      const flat = buildTerrainMesh(
        syntheticInput(40, 30, () => 2),
        { umPerPixel: 1, umPerFrame: 1 },
      );
      const coarse = buildTerrainMesh(input, { umPerPixel: 1, umPerFrame: 1 }, { targetTriangles: target });
      for (const m of [flat, coarse]) {
        const solid = weld(parseStl(encodeMesh(m, 'stl')).corners);
        expect(manifoldProblems(solid.triangles)).toEqual([]);
        expect(signedVolume(solid.positions, solid.triangles)).toBeGreaterThan(0);
      }
    }
  });
});
