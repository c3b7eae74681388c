// The fallback to the mean of all frames where confidence is low: the blend by confidence, the
// per-cell colour sums it reads, and the smoothing of the confidence it is steered by.
import { describe, expect, it } from 'vitest';
import {
  accumulateCellColour,
  blendFallbackRows,
  FALLBACK_FULL,
  FALLBACK_START,
  smoothConfidenceRows,
} from '../../../src/stack/merge/fallback.js';
import { seeded } from '../../helpers/frames.js';

/** Cell 1, grey, 4×3: image 200 everywhere, per-pixel sums of 3 frames with mean 50. */
function blendGrey(confidence: number, cell = 1) {
  const [w, h, frames] = [4, 3, 3];
  const image = new Uint8Array(w * h).fill(200);
  const cells = Math.ceil(w / cell) * Math.ceil(h / cell);
  const sum = new Float32Array(cells).fill(50 * frames);
  const conf = new Uint8Array(w * h).fill(confidence);
  blendFallbackRows(image, conf, sum, frames, w, h, 1, cell, 0, h, new Float32Array(Math.ceil(w / cell)));
  return Array.from(image);
}

describe('blendFallbackRows', () => {
  it('leaves pixels untouched at confidence ≥ FALLBACK_FULL', () => {
    for (const c of [FALLBACK_FULL, FALLBACK_FULL + 1, 255])
      expect(blendGrey(c)).toEqual(new Array(12).fill(200));
  });

  it('replaces pixels by the mean (sum / frames) at confidence ≤ FALLBACK_START', () => {
    for (const c of [0, FALLBACK_START - 1, FALLBACK_START])
      expect(blendGrey(c)).toEqual(new Array(12).fill(50));
    expect(blendGrey(0, 2)).toEqual(new Array(12).fill(50));
  });

  it('blends strictly between image and mean in between, rising with the confidence', () => {
    let previous = 50;
    for (let c = FALLBACK_START + 4; c < FALLBACK_FULL; c += 8) {
      const v = blendGrey(c)[0];
      expect(v).toBeGreaterThan(previous);
      expect(v).toBeLessThan(200);
      previous = v;
    }
    expect(blendGrey((FALLBACK_START + FALLBACK_FULL) / 2)[0]).toBe(125);
  });

  it('blends each channel of RGB 16-bit images towards its own mean', () => {
    const image = Uint16Array.of(1000, 2000, 3000);
    const sum = Float32Array.of(200, 400, 600); // 2 frames: means 100, 200, 300
    blendFallbackRows(image, Uint8Array.of(0), sum, 2, 1, 1, 3, 1, 0, 1, new Float32Array(3));
    expect(Array.from(image)).toEqual([100, 200, 300]);
  });
});

/** The definition: per cell and channel, the mean over cell×cell pixels, coordinates clamped. */
function naiveCellMeans(f: ArrayLike<number>, w: number, h: number, ch: number, cell: number) {
  const [cw, chh] = [Math.ceil(w / cell), Math.ceil(h / cell)];
  const out = new Float64Array(cw * chh * ch);
  for (let cy = 0; cy < chh; cy++)
    for (let cx = 0; cx < cw; cx++)
      for (let dy = 0; dy < cell; dy++)
        for (let dx = 0; dx < cell; dx++) {
          const [x, y] = [Math.min(w - 1, cx * cell + dx), Math.min(h - 1, cy * cell + dy)];
          for (let c = 0; c < ch; c++)
            out[(cy * cw + cx) * ch + c] += f[(y * w + x) * ch + c] / (cell * cell);
        }
  return out;
}

describe('accumulateCellColour', () => {
  for (const [w, h, ch, cell] of [
    [5, 3, 3, 2],
    [6, 4, 1, 2],
    [1, 1, 3, 2],
    [4, 3, 3, 1],
  ]) {
    it(`adds each cell's mean colour (${w}×${h}, ${ch} channel(s), cell ${cell})`, () => {
      const rnd = seeded(w * h * ch + cell);
      const frame = Uint8Array.from({ length: w * h * ch }, () => Math.floor(rnd() * 256));
      const means = naiveCellMeans(frame, w, h, ch, cell);
      const sum = new Float32Array(means.length).fill(10);
      const cellRows = Math.ceil(h / cell);
      accumulateCellColour(frame, w, h, ch, cell, 0, 1, sum);
      accumulateCellColour(frame, w, h, ch, cell, 1, cellRows, sum);
      for (let i = 0; i < sum.length; i++) expect(sum[i]).toBeCloseTo(10 + means[i], 3);
    });
  }

  it('touches only the cell rows it is given', () => {
    const frame = new Uint8Array(4 * 4).fill(8);
    const sum = new Float32Array(4);
    accumulateCellColour(frame, 4, 4, 1, 2, 1, 2, sum);
    expect(Array.from(sum)).toEqual([0, 0, 8, 8]);
  });
});

describe('smoothConfidenceRows', () => {
  const smooth = (conf: Uint8Array, w: number, h: number) => {
    const out = new Uint8Array(w * h);
    smoothConfidenceRows(conf, w, h, 0, h, out, new Float32Array(w));
    return out;
  };

  it('keeps a constant constant, also on grids smaller than the window', () => {
    for (const [w, h] of [
      [9, 7],
      [1, 1],
      [2, 3],
    ])
      expect(Array.from(smooth(new Uint8Array(w * h).fill(77), w, h))).toEqual(new Array(w * h).fill(77));
  });

  it('reduces a single 255 spike in zeros to about 255/25 over a 5×5 square', () => {
    const [w, h] = [9, 9];
    const conf = new Uint8Array(w * h);
    conf[4 * w + 4] = 255;
    const out = smooth(conf, w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        expect(out[y * w + x]).toBe(Math.abs(x - 4) <= 2 && Math.abs(y - 4) <= 2 ? Math.round(255 / 25) : 0);
  });
  it('matches a naive 5×5 mean with replicated edges on random confidence', () => {
    const [w, h] = [7, 6];
    const rnd = seeded(21);
    const conf = Uint8Array.from({ length: w * h }, () => Math.floor(rnd() * 256));
    const out = smooth(conf, w, h);
    const at = (x: number, y: number) =>
      conf[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) s += at(x + dx, y + dy);
        expect(out[y * w + x]).toBe(Math.round(s / 25));
      }
  });
});
