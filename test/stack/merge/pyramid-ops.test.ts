// REDUCE and EXPAND of the Burt–Adelson pyramid against their definitions (5-tap [1 4 6 4 1]/16,
// borders replicated), on odd sizes, split by rows, and on planes they must reproduce.
import { describe, expect, it } from 'vitest';
import { expandRow, reduceRows } from '../../../src/stack/merge/pyramid-ops.js';
import { simdAvailable } from '../../../src/stack/align/simd-module.js';
import { seeded } from '../../helpers/frames.js';

const K = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

function naiveReduce(src: ArrayLike<number>, sw: number, sh: number): Float64Array {
  const [dw, dh] = [Math.ceil(sw / 2), Math.ceil(sh / 2)];
  const at = (x: number, y: number) =>
    src[Math.min(sh - 1, Math.max(0, y)) * sw + Math.min(sw - 1, Math.max(0, x))];
  const out = new Float64Array(dw * dh);
  for (let i = 0; i < dh; i++)
    for (let j = 0; j < dw; j++) {
      let s = 0;
      for (let m = -2; m <= 2; m++)
        for (let n = -2; n <= 2; n++) s += K[m + 2] * K[n + 2] * at(2 * j + n, 2 * i + m);
      out[i * dw + j] = s;
    }
  return out;
}

function reduce(
  src: Float32Array,
  sw: number,
  sh: number,
  start = 0,
  end = Math.ceil(sh / 2),
  dst?: Float32Array,
) {
  const dw = Math.ceil(sw / 2);
  const out = dst ?? new Float32Array(dw * Math.ceil(sh / 2));
  reduceRows(src, 0, sw, sh, out, 0, dw, start, end, new Float32Array(sw));
  return out;
}

function expand(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  const row = new Float32Array(dw);
  for (let y = 0; y < dh; y++) {
    expandRow(src, 0, sw, sh, y, dw, row, new Float32Array(sw));
    out.set(row, y * dw);
  }
  return out;
}

/** 'WxH WxH …' as [width, height] pairs. */
const sizes = (list: string) => list.split(' ').map((s) => s.split('x').map(Number) as [number, number]);

const plane = (w: number, h: number, f: (x: number, y: number) => number) =>
  Float32Array.from({ length: w * h }, (_, p) => f(p % w, Math.floor(p / w)));

describe('reduceRows', () => {
  it('keeps a constant plane constant', () => {
    for (const v of reduce(
      plane(9, 6, () => 0.42),
      9,
      6,
    ))
      expect(v).toBeCloseTo(0.42, 6);
  });

  for (const [sw, sh] of sizes('7x5 1x1 2x3 3x4 4x2 5x9 16x11')) {
    it(`matches the naive REDUCE on ${sw}×${sh} → ${Math.ceil(sw / 2)}×${Math.ceil(sh / 2)}`, () => {
      const rnd = seeded(sw * 100 + sh);
      const src = plane(sw, sh, () => rnd());
      const got = reduce(src, sw, sh);
      const expected = naiveReduce(src, sw, sh);
      expect(got.length).toBe(expected.length);
      for (let p = 0; p < got.length; p++) expect(got[p]).toBeCloseTo(expected[p], 6);
    });
  }

  it('rows [0, k) and [k, n) computed separately equal [0, n), also at offsets', () => {
    const [sw, sh] = [13, 11];
    const rnd = seeded(3);
    const src = plane(sw, sh, () => rnd());
    const whole = reduce(src, sw, sh);
    for (const k of [1, 3, 5]) {
      const split = new Float32Array(whole.length);
      reduce(src, sw, sh, 0, k, split);
      reduce(src, sw, sh, k, 6, split);
      expect(Array.from(split)).toEqual(Array.from(whole));
    }
    // The same level stored after other data in both buffers.
    const big = new Float32Array(5 + src.length);
    big.set(src, 5);
    const dst = new Float32Array(3 + whole.length);
    reduceRows(big, 5, sw, sh, dst, 3, 7, 0, 6, new Float32Array(sw));
    expect(Array.from(dst.subarray(3))).toEqual(Array.from(whole));
  });
});

describe('expandRow', () => {
  it('keeps a constant constant, odd and even target sizes', () => {
    for (const [dw, dh] of sizes('7x5 8x6 1x1')) {
      const [sw, sh] = [Math.ceil(dw / 2), Math.ceil(dh / 2)];
      for (const v of expand(
        plane(sw, sh, () => 3.5),
        sw,
        sh,
        dw,
        dh,
      ))
        expect(v).toBeCloseTo(3.5, 6);
    }
  });

  it('interpolates the coarse samples at even positions and midpoints between them', () => {
    // A plane linear in x and y is reproduced exactly wherever no border is in reach.
    const coarse = plane(4, 3, (x, y) => 2 * x + 5 * y);
    const fine = expand(coarse, 4, 3, 7, 5);
    for (let y = 1; y < 4; y++)
      for (let x = 1; x < 6; x++) expect(fine[y * 7 + x]).toBeCloseTo(x + 2.5 * y, 5);
  });

  it('expand(reduce(ramp)) reproduces a linear ramp in the interior', () => {
    for (const [w, h] of sizes('24x17 31x20')) {
      const ramp = plane(w, h, (x, y) => 0.01 * x - 0.02 * y + 0.5);
      const [cw, ch] = [Math.ceil(w / 2), Math.ceil(h / 2)];
      const back = expand(reduce(ramp, w, h), cw, ch, w, h);
      for (let y = 4; y < h - 4; y++)
        for (let x = 4; x < w - 4; x++)
          expect(Math.abs(back[y * w + x] - ramp[y * w + x])).toBeLessThan(1e-5);
    }
  });

  it('matches the naive EXPAND (2·Σ w(m) G((y−m)/2) per axis, coarse borders replicated)', () => {
    for (const [dw, dh] of sizes('7x5 10x3 2x1')) {
      const [sw, sh] = [Math.ceil(dw / 2), Math.ceil(dh / 2)];
      const rnd = seeded(dw * dh);
      const g = plane(sw, sh, () => rnd());
      const got = expand(g, sw, sh, dw, dh);
      const at = (x: number, y: number) => g[Math.min(sh - 1, y) * sw + Math.min(sw - 1, Math.max(0, x))];
      for (let y = 0; y < dh; y++)
        for (let x = 0; x < dw; x++) {
          let s = 0;
          for (let m = -2; m <= 2; m++)
            for (let n = -2; n <= 2; n++)
              if ((y - m) % 2 === 0 && (x - n) % 2 === 0)
                s += 4 * K[m + 2] * K[n + 2] * at((x - n) / 2, Math.max(0, (y - m) / 2));
          expect(got[y * dw + x]).toBeCloseTo(s, 6);
        }
    }
  });
});

// Levels 64 samples wide and more run on the WebAssembly SIMD kernels: they must give what the
// JavaScript loops give (which the tests above check against the definitions), in single precision.
describe('REDUCE and EXPAND on the SIMD kernels', () => {
  it('are what this runtime uses', () => {
    expect(simdAvailable()).toBe(true);
  });

  for (const [sw, sh] of sizes('64x5 203x37 130x21 257x4')) {
    it(`REDUCE ${sw}×${sh} as the JavaScript loops, whole and in bands, at offsets`, () => {
      const rnd = seeded(sw + 7 * sh);
      const src = plane(sw, sh, () => rnd());
      const [dw, dh] = [Math.ceil(sw / 2), Math.ceil(sh / 2)];
      const js = new Float32Array(dw * dh);
      reduceRows(src, 0, sw, sh, js, 0, dw, 0, dh, new Float32Array(sw), false);
      const simd = new Float32Array(3 + dw * dh);
      const shifted = new Float32Array(5 + src.length);
      shifted.set(src, 5);
      const cut = dh >> 1;
      reduceRows(shifted, 5, sw, sh, simd, 3, dw, 0, cut, new Float32Array(sw));
      reduceRows(shifted, 5, sw, sh, simd, 3, dw, cut, dh, new Float32Array(sw));
      for (let p = 0; p < js.length; p++) expect(Math.abs(simd[3 + p] - js[p])).toBeLessThan(1e-6);
    });

    it(`EXPAND to ${sw}×${sh} as the JavaScript loops, every row`, () => {
      const [cw, chh] = [Math.ceil(sw / 2), Math.ceil(sh / 2)];
      const rnd = seeded(sw * sh);
      const coarse = new Float32Array(2 + cw * chh);
      coarse.set(
        plane(cw, chh, () => rnd()),
        2,
      );
      const js = new Float32Array(sw);
      const simd = new Float32Array(sw + 4).fill(-7);
      for (let y = 0; y < sh; y++) {
        expandRow(coarse, 2, cw, chh, y, sw, js, new Float32Array(cw), false);
        expandRow(coarse, 2, cw, chh, y, sw, simd, new Float32Array(cw));
        for (let x = 0; x < sw; x++) expect(Math.abs(simd[x] - js[x]), `(${x}, ${y})`).toBeLessThan(1e-6);
        // Nothing is written past the row.
        expect(simd[sw]).toBe(-7);
      }
    });
  }
});
