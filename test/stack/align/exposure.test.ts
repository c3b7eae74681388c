// Exposure gains between frames: the drift a synthetic camera rendered is recovered, and focus changes
// alone (a steady lamp) measure as no change, also on a backlit specimen whose blur spills light.
import { describe, expect, it } from 'vitest';
import { createDefocusRenderer } from '../../../src/rig/simulated/defocus.js';
import type { Scene } from '../../../src/rig/simulated/scene.js';
import { makeSyntheticStack } from '../../../src/rig/simulated/stack.js';
import { GAIN_TOLERANCE } from '../../../src/stack/align/aligner.js';
import { blockMeans, exposureGains, MIN_EXPOSURE_BLOCKS } from '../../../src/stack/align/exposure.js';
import type { Frame } from '../../../src/stack/types.js';

const gainsAgainst = (reference: Frame, frame: Frame) =>
  exposureGains(blockMeans(reference), blockMeans(frame));

/** A dark body (an ellipse) over a bright field, on a level surface: the scorpion stack's situation. */
function backlit(w: number, h: number): Scene {
  const texture = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const inside = ((x - w * 0.45) / (w * 0.3)) ** 2 + ((y - h / 2) / (h * 0.28)) ** 2 < 1;
      const ripple = 0.02 * Math.sin(x * 0.9) * Math.sin(y * 0.7);
      texture.set(inside ? [0.05 + ripple, 0.03, 0.02] : [0.85, 0.8 + ripple, 0.45], (y * w + x) * 3);
    }
  const depthUm = new Float32Array(w * h).fill(50);
  depthUm[0] = 0;
  depthUm[1] = 100;
  return {
    width: w,
    height: h,
    seed: 1,
    depthRangeUm: 100,
    texture,
    depthUm,
    flatMask: new Uint8Array(w * h),
  };
}

describe('exposure gains', () => {
  it('recover a drifting exposure to within 0.3 %', () => {
    const stack = makeSyntheticStack({
      width: 320,
      height: 240,
      frames: 8,
      seed: 5,
      noise: 0.004,
      exposureDrift: 0.03,
    });
    // The drift is real: at least one frame is 3 % or more off the first.
    expect(Math.max(...stack.gains.map((g) => Math.abs(g - 1)))).toBeGreaterThan(0.03);
    for (let i = 1; i < 8; i++) {
      const truth = (stack.gains[0] / stack.gains[i]) ** (1 / 2.2);
      for (const g of gainsAgainst(stack.frames[0], stack.frames[i]))
        expect(Math.abs(g / truth - 1)).toBeLessThan(0.003);
    }
  });

  // Steady means: well inside the tolerance below which the aligner corrects nothing.
  it('measure a steady lamp as steady whatever the focus', () => {
    const stack = makeSyntheticStack({ width: 320, height: 240, frames: 8, seed: 7, noise: 0.004 });
    for (let i = 1; i < 8; i++)
      for (const g of gainsAgainst(stack.frames[0], stack.frames[i]))
        expect(Math.abs(g - 1)).toBeLessThan(GAIN_TOLERANCE / 2);
  });

  it('measure a steady lamp as steady on a backlit specimen, where a mean over the centre moved by percents', () => {
    const scene = backlit(320, 240);
    const renderer = createDefocusRenderer(scene, { blurPxPerUm: 0.4, noise: 0.003 });
    const sharp = renderer.render(50);
    const blurred = renderer.render(90);
    for (const g of gainsAgainst(sharp, blurred)) expect(Math.abs(g - 1)).toBeLessThan(GAIN_TOLERANCE / 2);
    // What the gains replace: linear means over the central half of the frame.
    const centralMean = (f: Frame, c: number) => {
      let sum = 0;
      let n = 0;
      for (let y = 60; y < 180; y++)
        for (let x = 80; x < 240; x++, n++)
          sum += ((f.data[(y * 320 + x) * 3 + c] / 255 + 0.055) / 1.055) ** 2.4;
      return sum / n;
    };
    expect(Math.abs(centralMean(sharp, 0) / centralMean(blurred, 0) - 1)).toBeGreaterThan(0.02);
  });

  it('leave clipped and dark samples out, and stay at 1 without enough evidence', () => {
    const w = 160;
    const h = 120;
    const frame = (red: number, blue: number): Frame => {
      const data = new Uint8Array(w * h * 3);
      for (let p = 0; p < w * h; p++) data.set([red, 255, p % 7 === 0 ? 255 : blue], p * 3);
      return { width: w, height: h, channels: 3, bitDepth: 8, data };
    };
    // Green is clipped everywhere and blue has a clipped sample in every block: only red counts.
    const [r, g, b] = gainsAgainst(frame(100, 120), frame(90, 30));
    expect(r).toBeGreaterThan(1.09);
    expect(r).toBeLessThan(1.13);
    expect([g, b]).toEqual([r, r]);
    // All dark: nothing to measure.
    expect(gainsAgainst(frame(1, 1), frame(2, 2))).toEqual([1, 1, 1]);
    expect(MIN_EXPOSURE_BLOCKS).toBeGreaterThan(1);
  });
});
