// Checks the FFT focus measure against a naive DFT of De & Masilamani 2013 ("Image Sharpness Measure
// for Blurred Images in Frequency Domain", Procedia Eng. 64) and the band contract of FocusMeasure.
import { describe, expect, it } from 'vitest';
import {
  createFftMeasure,
  createFftScratch,
  deMasilamaniScore,
  DEFAULT_FFT_STRIDE,
  DEFAULT_FFT_WINDOW_SIZE,
} from '../../../src/stack/measure/fft.js';

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The paper's formula literally: O(N⁴) DFT, fftshift, max, count > M/1000, divide by pixel count. */
function naiveScore(win: ArrayLike<number>, n: number): number {
  const mag = new Float64Array(n * n);
  for (let u = 0; u < n; u++) {
    for (let v = 0; v < n; v++) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const a = (-2 * Math.PI * ((u * y) / n + (v * x) / n)) % (2 * Math.PI);
          re += win[y * n + x] * Math.cos(a);
          im += win[y * n + x] * Math.sin(a);
        }
      }
      // fftshift: move (u, v) to ((u + n/2) mod n, (v + n/2) mod n).
      mag[((u + n / 2) % n) * n + ((v + n / 2) % n)] = Math.hypot(re, im);
    }
  }
  let m = 0;
  for (const a of mag) m = Math.max(m, a);
  let th = 0;
  for (const a of mag) if (a > m / 1000) th++;
  return th / (n * n);
}

function randomImage(width: number, height: number, seed: number): Float32Array {
  const r = rng(seed);
  const img = new Float32Array(width * height);
  for (let i = 0; i < img.length; i++) img[i] = r();
  return img;
}

/** Separable Gaussian blur with replicated edges. */
function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const rad = Math.ceil(3 * sigma);
  const k: number[] = [];
  for (let i = -rad; i <= rad; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const tmp = new Float32Array(src.length);
  const dst = new Float32Array(src.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let a = 0;
      for (let i = -rad; i <= rad; i++) a += k[i + rad] * src[y * width + clamp(x + i, width - 1)];
      tmp[y * width + x] = a / sum;
    }
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let a = 0;
      for (let i = -rad; i <= rad; i++) a += k[i + rad] * tmp[clamp(y + i, height - 1) * width + x];
      dst[y * width + x] = a / sum;
    }
  return dst;
}

/** Cuts image rows [start, end) plus `halo` replicated-at-the-edge rows either side, as a worker would. */
function band(img: Float32Array, width: number, height: number, start: number, end: number, halo: number) {
  const firstRow = start - halo;
  const rows = end - start + 2 * halo;
  const lum = new Float32Array(width * rows);
  for (let r = 0; r < rows; r++) {
    const y = Math.min(height - 1, Math.max(0, firstRow + r));
    lum.set(img.subarray(y * width, (y + 1) * width), r * width);
  }
  return { lum, width, rows, firstRow };
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

describe('deMasilamaniScore', () => {
  it.each([4, 8, 16])('equals a naive DFT of the paper formula on random windows, N = %i', (n) => {
    const scratch = createFftScratch(n);
    const r = rng(n);
    for (let trial = 0; trial < 4; trial++) {
      // Smooth ramps plus noise at several amplitudes keep many coefficients near and below M/1000.
      const noise = [1, 1e-2, 1e-3, 1e-4][trial];
      const win = new Float32Array(n * n);
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) win[y * n + x] = 0.3 + 0.02 * x + 0.01 * y + noise * r();
      const expected = naiveScore(win, n);
      expect(deMasilamaniScore(win, n, scratch)).toBe(expected);
      expect(expected).toBeGreaterThan(0);
    }
  });

  it('finds the max even when it is not the DC term (zero-mean window)', () => {
    const n = 8;
    const r = rng(7);
    const win = new Float64Array(n * n);
    for (let i = 0; i < win.length; i++) win[i] = r() - 0.5 + 0.4 * Math.cos(Math.PI * (i % n));
    expect(deMasilamaniScore(win, n)).toBe(naiveScore(win, n));
  });

  it('scores a flat window 1/N² (only DC exceeds M/1000) and a black window 0', () => {
    for (const n of [4, 16, 32]) {
      expect(deMasilamaniScore(new Float32Array(n * n).fill(0.37), n)).toBe(1 / (n * n));
      expect(deMasilamaniScore(new Float32Array(n * n), n)).toBe(0);
    }
  });

  it('scores a sharp texture higher than the same texture blurred', () => {
    const n = 16;
    const w = 48;
    const img = randomImage(w, w, 3);
    const blurred = gaussianBlur(img, w, w, 1.5);
    const crop = (src: Float32Array) => {
      const out = new Float32Array(n * n);
      for (let y = 0; y < n; y++) out.set(src.subarray((16 + y) * w + 16, (16 + y) * w + 16 + n), y * n);
      return out;
    };
    const sharp = deMasilamaniScore(crop(img), n);
    const soft = deMasilamaniScore(crop(blurred), n);
    expect(sharp).toBeGreaterThan(0.9);
    expect(soft).toBeLessThan(sharp * 0.8);
  });

  it('rejects sizes fft.js cannot transform', () => {
    expect(() => createFftScratch(12)).toThrow(RangeError);
    expect(() => createFftMeasure({ windowSize: 1 })).toThrow(RangeError);
    expect(() => createFftMeasure({ windowSize: 16, stride: 0 })).toThrow(RangeError);
  });
});

describe('createFftMeasure', () => {
  it('exposes the documented defaults', () => {
    const m = createFftMeasure();
    expect(m.name).toBe('fft');
    expect(DEFAULT_FFT_WINDOW_SIZE).toBe(16);
    expect(DEFAULT_FFT_STRIDE).toBe(8);
    //X
    expect(createFftMeasure({ windowSize: 8, stride: 3 }).halo).toBe(7);
  });

  it('reproduces the window score exactly at grid points', () => {
    const width = 40;
    const height = 40;
    const img = randomImage(width, height, 11);
    const m = createFftMeasure({ windowSize: 8, stride: 4 });
    const input = band(img, width, height, 0, height, m.halo);
    const out = new Float32Array(width * input.rows);
    m.compute(input, out);
    const win = new Float32Array(64);
    for (const [gx, gy] of [
      [8, 8],
      [12, 20],
      [28, 16],
    ]) {
      for (let r = 0; r < 8; r++)
        win.set(img.subarray((gy - 4 + r) * width + gx - 4, (gy - 4 + r) * width + gx + 4), r * 8);
      expect(out[(gy - input.firstRow) * width + gx]).toBe(deMasilamaniScore(win, 8));
    }
  });

  it('gives a flat image 1/N² everywhere', () => {
    const m = createFftMeasure();
    const width = 50;
    const rows = 30;
    const out = new Float32Array(width * rows);
    m.compute({ lum: new Float32Array(width * rows).fill(0.5), width, rows, firstRow: -m.halo }, out);
    for (const v of out) expect(v).toBe(1 / 256);
  });

  it('ranks a sharp image above its blurred copy', () => {
    const width = 64;
    const height = 64;
    const img = randomImage(width, height, 5);
    const m = createFftMeasure();
    const score = (src: Float32Array) => {
      const input = band(src, width, height, 0, height, m.halo);
      const out = new Float32Array(width * input.rows);
      m.compute(input, out);
      return mean(out);
    };
    expect(score(gaussianBlur(img, width, height, 1.5))).toBeLessThan(score(img) * 0.8);
  });

  it.each([
    { windowSize: 16, stride: 8, split: 48 },
    { windowSize: 16, stride: 8, split: 37 },
    { windowSize: 8, stride: 3, split: 50 },
    { windowSize: 16, stride: 16, split: 21 },
  ])('is band independent: one band vs two (%o)', ({ windowSize, stride, split }) => {
    const width = 64;
    const height = 96;
    const img = gaussianBlur(randomImage(width, height, 9), width, height, 0.8);
    const m = createFftMeasure({ windowSize, stride });
    const whole = band(img, width, height, 0, height, m.halo);
    const wholeOut = new Float32Array(width * whole.rows);
    m.compute(whole, wholeOut);
    for (const [start, end] of [
      [0, split],
      [split, height],
    ]) {
      const part = band(img, width, height, start, end, m.halo);
      const partOut = new Float32Array(width * part.rows);
      m.compute(part, partOut);
      for (let y = start; y < end; y++) {
        const a = wholeOut.subarray((y - whole.firstRow) * width, (y - whole.firstRow + 1) * width);
        const b = partOut.subarray((y - part.firstRow) * width, (y - part.firstRow + 1) * width);
        expect(b, `image row ${y}`).toEqual(a);
      }
    }
  });

  it('writes a finite non-negative score to every pixel, including the last rows and columns', () => {
    for (const [width, rows, firstRow] of [
      [37, 29, 0],
      [37, 29, -5],
      [101, 23, 1234],
      [1, 1, 0],
      [5, 3, -2],
    ]) {
      const m = createFftMeasure();
      const lum = randomImage(width, rows, width + rows);
      const out = new Float32Array(width * rows).fill(Number.NaN);
      m.compute({ lum, width, rows, firstRow }, out);
      for (const v of out) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
      }
      expect(out[out.length - 1]).toBeGreaterThan(0);
    }
  });

  it('reuses one measure across calls and widths without stale state', () => {
    const m = createFftMeasure({ windowSize: 8 });
    const check = (width: number, rows: number, seed: number) => {
      const lum = randomImage(width, rows, seed);
      const out = new Float32Array(lum.length);
      const ref = new Float32Array(lum.length);
      m.compute({ lum, width, rows, firstRow: 0 }, out);
      createFftMeasure({ windowSize: 8 }).compute({ lum, width, rows, firstRow: 0 }, ref);
      expect(out).toEqual(ref);
    };
    check(30, 20, 1);
    check(30, 20, 2); // same width: cached row spectra must not leak between calls
    check(45, 20, 3);
  });
});
