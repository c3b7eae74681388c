// Tiny frames built from formulas, plus the pixel statistics the tests compare.
import type { Frame } from '../../src/stack/types.js';

export function makeFrame(
  width: number,
  height: number,
  channels: 1 | 3,
  value: (x: number, y: number, c: number) => number,
  bitDepth: 8 | 16 = 8,
): Frame {
  const max = bitDepth === 16 ? 65535 : 255;
  const data =
    bitDepth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++)
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(max, Math.round(value(x, y, c))));
  return { width, height, channels, bitDepth, data };
}

/** Box blur (3×3, edges replicated) applied `passes` times: a stand-in for defocus. */
export function blurFrame(frame: Frame, passes: number): Frame {
  const { width: w, height: h, channels: ch } = frame;
  let src = Float64Array.from(frame.data);
  for (let p = 0; p < passes; p++) {
    const dst = new Float64Array(src.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < ch; c++) {
          let sum = 0;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const yy = Math.min(h - 1, Math.max(0, y + dy));
              const xx = Math.min(w - 1, Math.max(0, x + dx));
              sum += src[(yy * w + xx) * ch + c];
            }
          dst[(y * w + x) * ch + c] = sum / 9;
        }
    src = dst;
  }
  const data = frame.bitDepth === 16 ? new Uint16Array(src.length) : new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = Math.round(src[i]);
  return { ...frame, data };
}

/** Deterministic pseudo-random numbers in [0, 1) for test textures and noise. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { psnr } from '../../src/rig/simulated/score.js';

/** Samples of a rectangle (all channels) of an interleaved image. */
export function region(
  data: ArrayLike<number>,
  width: number,
  channels: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number[] {
  const out: number[] = [];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      for (let c = 0; c < channels; c++) out.push(data[(y * width + x) * channels + c]);
  return out;
}

export function std(values: number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}
