// Checks the lens-like blur model: each point's light spreads about the point itself (the gather model
// moves it towards its blurrier side), light is conserved, and a level surface blurs as in the gather model.
import { describe, expect, it } from 'vitest';
import { createDefocusRenderer, type BlurModel } from '../../../src/rig/simulated/defocus.js';
import type { Scene } from '../../../src/rig/simulated/scene.js';
import { makeIntegratedStack } from '../../../src/rig/simulated/pixel-integration.js';

const W = 96;
const H = 64;

/**
 * A dark scene with bright 8×8 squares (top-left corners given) on a surface tilted along x (0 µm at the
 * left, 100 µm at the right), or level. Squares on the 8-px grid: the renderer computes wide blurs on
 * the scene shrunk into 2×2 … 8×8 cells, which moves a point to its cell's centre (zero on average over
 * positions), and such a square's centre is every cell's centre.
 */
function squaresOnTilt(corners: readonly [number, number][], level?: number): Scene {
  const texture = new Float32Array(W * H * 3);
  for (const [x0, y0] of corners)
    // Half scale: blending two blurs whose weights vary across a bright square overshoots full scale.
    for (let y = y0; y < y0 + 8; y++) texture.fill(0.5, (y * W + x0) * 3, (y * W + x0 + 8) * 3);
  const depthUm = Float32Array.from({ length: W * H }, (_, p) => level ?? (100 * (p % W)) / (W - 1));
  return {
    width: W,
    height: H,
    seed: 1,
    depthRangeUm: 100,
    texture,
    depthUm,
    flatMask: new Uint8Array(W * H),
  };
}

/** Linear-light sum and centroid of a 16-bit linear grey frame over a window. */
function moments(data: ArrayLike<number>, x0: number, x1: number, y0: number, y1: number) {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const v = data[y * W + x];
      sum += v;
      sx += v * x;
      sy += v * y;
    }
  return { sum, cx: sx / sum, cy: sy / sum };
}

function render(scene: Scene, model: BlurModel, focusUm: number) {
  const renderer = createDefocusRenderer(scene, {
    model,
    channels: 1,
    bitDepth: 16,
    transfer: 'linear',
    sigma0: 0.5,
    blurPxPerUm: 0.12,
  });
  return renderer.render(focusUm).data;
}

describe('scatter blur model', () => {
  // A square centred on x = 43.5 sits at ~46 µm; focused at 0 µm its blur is ~6 px, growing at 0.13 px
  // per px to the right.
  const scene = squaresOnTilt([[40, 24]]);

  it('keeps each point’s light centred on the point, where gathering moves it to its blurrier side', () => {
    const scattered = moments(render(scene, 'scatter', 0), 16, 80, 4, 60);
    const gathered = moments(render(scene, 'gather', 0), 16, 80, 4, 60);
    // Within a shrunk cell the blur weights vary, which leaves a few hundredths of a pixel.
    expect(Math.abs(scattered.cx - 43.5)).toBeLessThan(0.05);
    expect(Math.abs(scattered.cy - 27.5)).toBeLessThan(0.01);
    // The failure the scatter model exists for: the gathered square's centroid slides to the right.
    expect(gathered.cx - 43.5).toBeGreaterThan(0.3);
    expect(Math.abs(gathered.cy - 27.5)).toBeLessThan(0.02);
  });

  it('conserves the light of every point', () => {
    const scattered = moments(render(scene, 'scatter', 0), 0, W, 0, H);
    const focused = moments(render(scene, 'scatter', 46), 0, W, 0, H);
    expect(Math.abs(scattered.sum / focused.sum - 1)).toBeLessThan(0.002);
  });

  it('blurs a level surface as the gather model does', () => {
    const level = squaresOnTilt(
      [
        [24, 16],
        [56, 40],
      ],
      30,
    );
    const a = render(level, 'scatter', 80);
    const b = render(level, 'gather', 80);
    let worst = 0;
    for (let p = 0; p < a.length; p++) worst = Math.max(worst, Math.abs(a[p] - b[p]));
    expect(worst).toBeLessThanOrEqual(1);
    expect(moments(a, 0, W, 0, H).sum).toBeGreaterThan(0);
  });

  it('is what makeIntegratedStack renders by default, and matches the gather model on a level surface', () => {
    const level = { width: 48, height: 40, frames: 3, seed: 2, surface: () => 40 };
    const byDefault = makeIntegratedStack(level);
    const scattered = makeIntegratedStack({ ...level, model: 'scatter' });
    const gathered = makeIntegratedStack({ ...level, model: 'gather' });
    expect(byDefault.frames[0].data).toEqual(scattered.frames[0].data);
    // Uniform blur is the same in both models (up to rounding), so frames of a level surface agree.
    let worst = 0;
    const [s, g] = [scattered.frames[2].data, gathered.frames[2].data];
    for (let i = 0; i < s.length; i++) worst = Math.max(worst, Math.abs(s[i] - g[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
