// Quality on synthetic scenes with a known answer: the stack against the all-in-focus truth, every
// single frame and a naive per-pixel argmax, and the depth map against the true surface.
import { describe, expect, it } from 'vitest';
import { makeSyntheticStack, truthDepthFrames, truthImage } from '../../src/rig/simulated/stack.js';
import { Stacker } from '../../src/stack/stacker.js';
import { MEASURES, METHODS } from '../../src/stack/types.js';
import { naiveArgmax, psnr } from '../../src/rig/simulated/score.js';

const W = 256;
const H = 192;
const FRAMES = 10;

describe.each([11, 12])('synthetic scene (seed %i)', (seed) => {
  const stack = makeSyntheticStack({ width: W, height: H, frames: FRAMES, seed, noise: 0.004 });
  const truth = truthImage(stack.scene);
  const trueDepth = truthDepthFrames(stack.scene, stack.focusUm);
  const bestSingle = Math.max(...stack.frames.map((f) => psnr(f.data, truth.data, 255)));
  const naive = psnr(naiveArgmax(stack.frames), truth.data, 255);

  it.each(METHODS)('%s beats every frame and the naive argmax by a clear margin', async (method) => {
    const stacker = new Stacker({ method, threads: 2 });
    for (const f of stack.frames) await stacker.add(f);
    const r = await stacker.finish();
    const quality = psnr(r.image, truth.data, 255);
    expect(quality).toBeGreaterThan(bestSingle + 5);
    expect(quality).toBeGreaterThan(naive + 2);
    // Depth: within one frame of the truth where the stacker is confident, which is most of the scene.
    const errors: number[] = [];
    for (let p = 0; p < W * H; p++)
      if (r.confidence[p] >= 128) errors.push(Math.abs(r.depth[p] - trueDepth[p]));
    errors.sort((a, b) => a - b);
    expect(errors.length).toBeGreaterThan(0.6 * W * H);
    expect(errors[Math.floor(errors.length / 2)]).toBeLessThan(0.5);
    expect(errors[Math.floor(errors.length * 0.9)]).toBeLessThan(1);
  });

  it.each(MEASURES.filter((m) => m !== 'laplacian'))(
    'depthmap with the %s measure also beats every frame and the naive argmax',
    async (measure) => {
      const stacker = new Stacker({ method: 'depthmap', measure, threads: 2 });
      for (const f of stack.frames) await stacker.add(f);
      const r = await stacker.finish();
      const quality = psnr(r.image, truth.data, 255);
      expect(quality).toBeGreaterThan(bestSingle + 5);
      expect(quality).toBeGreaterThan(naive + 2);
    },
  );
});
