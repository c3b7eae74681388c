// The mesh's geometry against a known surface: heights are the synthetic specimen's (depth in frames ×
// µm per frame × zScale) within the decimation bound, widths are pixels × µm per pixel, and the
// calibration is checked before any work.
import { describe, expect, it } from 'vitest';
import { buildTerrainMesh } from '../../src/mesh/build.js';
import { checkCalibration, umPerFrameFromPlanes } from '../../src/mesh/calibration.js';
import { placeVertices } from '../../src/mesh/place.js';
import { makeSyntheticStack, truthDepthFrames } from '../../src/rig/simulated/stack.js';
import { makeScene } from '../../src/rig/simulated/scene.js';
import { rasterHeights, syntheticInput } from './mesh-helpers.js';

// 129 × 129: the decimation grid is the pixel grid itself, so heights can be compared pixel by pixel.
const SIZE = 129;
const scene = makeScene({ width: SIZE, height: SIZE, seed: 9, depthRangeUm: 120 });
const FRAMES = 13;
const STEP_UM = 120 / (FRAMES - 1);
const focusUm = Array.from({ length: FRAMES }, (_, i) => i * STEP_UM);
const depthFrames = truthDepthFrames(scene, focusUm);

function inputOfScene() {
  const input = syntheticInput(SIZE, SIZE, (x, y) => depthFrames[y * SIZE + x]);
  return input;
}

describe('buildTerrainMesh on a synthetic specimen', () => {
  it('puts every pixel of the surface within the reported bound of its true height × zScale', () => {
    const zScale = 2;
    const mesh = buildTerrainMesh(
      inputOfScene(),
      { umPerPixel: 1.5, umPerFrame: STEP_UM, zScale },
      { smoothRadius: 0, targetTriangles: 4000 },
    );
    expect(mesh.gridSize).toBe(SIZE);
    expect(mesh.triangles.length / 3).toBeLessThanOrEqual(4000);
    // The bound is in true µm; the file heights are exaggerated by zScale.
    const { heights, covered } = rasterHeights(mesh.vertices, mesh.triangles, SIZE, SIZE);
    let worst = 0;
    for (let i = 0; i < heights.length; i++) {
      expect(covered[i]).toBeGreaterThan(0);
      worst = Math.max(worst, Math.abs(heights[i] - scene.depthUm[i]));
    }
    expect(worst).toBeLessThanOrEqual(mesh.maxErrorUm + 1e-3);
    // Refinement stops at the default tolerance, 0.02 frame (the depth map's own precision), well
    // inside the budget, though the relief spans 120 µm and has a true step.
    expect(mesh.maxErrorUm).toBeLessThanOrEqual(0.02 * STEP_UM + 1e-6);

    const placed = placeVertices(mesh, { up: 'z', unitsPerUm: 1e-3 });
    for (let v = 0; v < mesh.vertices.length; v += 3) {
      const [x, y, h] = [mesh.vertices[v], mesh.vertices[v + 1], mesh.vertices[v + 2]];
      expect(placed[v]).toBeCloseTo(x * 1.5e-3, 6);
      expect(placed[v + 1]).toBeCloseTo((SIZE - 1 - y) * 1.5e-3, 6);
      expect(placed[v + 2]).toBeCloseTo(h * zScale * 1e-3, 6);
    }
  });

  it('spans the whole picture of a non-square image, from the first pixel centre to the last', () => {
    const input = syntheticInput(200, 150, (x, y) => 1 + x / 100 + y / 300);
    const mesh = buildTerrainMesh(input, { umPerPixel: 2, umPerFrame: 4 }, { smoothRadius: 0 });
    const xs = mesh.vertices.filter((_, i) => i % 3 === 0);
    const ys = mesh.vertices.filter((_, i) => i % 3 === 1);
    expect([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]).toEqual([0, 199, 0, 149]);
    // A plane: two triangles, heights 4 µm per frame.
    expect(mesh.triangles.length).toBe(6);
    for (let v = 0; v < mesh.vertices.length; v += 3) {
      const [x, y] = [mesh.vertices[v], mesh.vertices[v + 1]];
      expect(mesh.vertices[v + 2]).toBeCloseTo(4 * (1 + x / 100 + y / 300), 3);
    }
  });

  it('makes heights grow towards the objective for a stack taken downwards', () => {
    const input = syntheticInput(33, 33, (x) => x / 8);
    const up = buildTerrainMesh(input, { umPerPixel: 1, umPerFrame: 5 }, { smoothRadius: 0 });
    const down = buildTerrainMesh(input, { umPerPixel: 1, umPerFrame: -5 }, { smoothRadius: 0 });
    const rightEdge = (m: typeof up) => m.vertices.findIndex((v, i) => i % 3 === 0 && v === 32) + 2;
    expect(up.vertices[rightEdge(up)]).toBeCloseTo(20, 4);
    expect(down.vertices[rightEdge(down)]).toBeCloseTo(-20, 4);
  });

  it('follows a real stack of the simulated microscope to a fraction of a frame', async () => {
    const { Stacker } = await import('../../src/stack/stacker.js');
    const stack = makeSyntheticStack({ width: 128, height: 96, frames: 10, seed: 12, noise: 0.004 });
    const stacker = new Stacker({ threads: 2 });
    for (const f of stack.frames) await stacker.add(f);
    const r = await stacker.finish();
    const mesh = buildTerrainMesh(
      {
        width: 128,
        height: 96,
        depth: r.depth,
        confidence: r.confidence,
        image: { channels: 3, data: r.image },
      },
      { umPerPixel: 1, umPerFrame: stack.stepUm },
      { targetTriangles: 3000 },
    );
    const { heights } = rasterHeights(mesh.vertices, mesh.triangles, 128, 96);
    const errors = Array.from(heights, (h, i) => Math.abs(h - stack.scene.depthUm[i])).sort((a, b) => a - b);
    // Depth from focus is good to a fraction of a frame here; cleaning and decimation keep it so.
    expect(errors[errors.length >> 1]).toBeLessThan(0.3 * stack.stepUm);
    expect(errors[Math.floor(errors.length * 0.9)]).toBeLessThan(0.75 * stack.stepUm);
  });
});

describe('calibration', () => {
  it('takes µm per frame from the planes, signed, and refuses what cannot be a stack', () => {
    expect(umPerFrameFromPlanes([100, 105, 110, 115])).toBe(5);
    expect(umPerFrameFromPlanes([300, 290, 280])).toBe(-10);
    expect(umPerFrameFromPlanes([100])).toBeNull();
    expect(umPerFrameFromPlanes([5, 5])).toBeNull();
    expect(umPerFrameFromPlanes(['a', 'b'])).toBeNull();
    expect(umPerFrameFromPlanes(undefined)).toBeNull();
  });

  it('names the bad value', () => {
    expect(() => checkCalibration({ umPerPixel: 0, umPerFrame: 1 })).toThrow(/umPerPixel .* got 0/);
    expect(() => checkCalibration({ umPerPixel: 1, umPerFrame: 0 })).toThrow(/umPerFrame .* got 0/);
    expect(() => checkCalibration({ umPerPixel: 1, umPerFrame: 1, zScale: -2 })).toThrow(/zScale .* got -2/);
    expect(() =>
      buildTerrainMesh(
        syntheticInput(1, 5, () => 0),
        { umPerPixel: 1, umPerFrame: 1 },
      ),
    ).toThrow(/at least 2×2 pixels, got 1×5/);
  });
});
