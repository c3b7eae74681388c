import { beforeAll, describe, expect, it } from 'vitest';
import { coverageIntervals } from '../../../src/stack/align/coverage.js';
import {
  coversPixel,
  createWarpScratch,
  warpRows,
  type WarpSpec,
} from '../../../src/stack/align/resample.js';
import { IDENTITY, pointMapper, type FrameTransform } from '../../../src/stack/align/transform.js';
import { makeFrame, seeded } from '../../helpers/frames.js';

const W = 48;
const H = 36;
const g = { width: W, height: H, channels: 3 as const, maxValue: 255 };
const t = (p: Partial<FrameTransform>): FrameTransform => ({ ...IDENTITY, ...p });

let useSimd = false;

function warp(src: Uint8Array, spec: WarpSpec, bands = 1): Uint8Array {
  const dst = new Uint8Array(src.length);
  for (let b = 0; b < bands; b++) {
    const start = Math.floor((H * b) / bands);
    const end = Math.floor((H * (b + 1)) / bands);
    warpRows(src, dst, g, spec, start, end, createWarpScratch(W, 3, { simd: useSimd }));
  }
  return dst;
}

const rnd = seeded(4);
const noise = Array.from({ length: W * H }, () => rnd());
const texture = makeFrame(W, H, 3, (x, y, c) => 30 + 190 * noise[y * W + x] + c * 5).data as Uint8Array;

// Both paths: the float one, and WebAssembly SIMD (8-bit RGB), whose 8-bit intermediate rows and
// 1/256 px positions allow one more level of rounding on a ramp.
describe.each([
  { path: 'float', simd: false, ramp: 0.51 },
  { path: 'WebAssembly SIMD', simd: true, ramp: 1.01 },
])('warpRows ($path)', ({ simd, ramp: rampTolerance }) => {
  beforeAll(() => {
    useSimd = simd;
  });
  it('the identity with unit gains copies the frame exactly', () => {
    expect(Array.from(warp(texture, { transform: t({}), gains: [1, 1, 1] }))).toEqual(Array.from(texture));
  });

  it('an integer translation samples the frame that many pixels away (reference → frame)', () => {
    const out = warp(texture, { transform: t({ dx: 3, dy: -2 }), gains: [1, 1, 1] });
    for (let y = 4; y < H - 4; y++)
      for (let x = 4; x < W - 6; x++)
        for (let c = 0; c < 3; c++)
          expect(out[(y * W + x) * 3 + c]).toBe(texture[((y - 2) * W + x + 3) * 3 + c]);
  });

  it('applies per-channel gains, clamped to the sample range', () => {
    const out = warp(texture, { transform: t({}), gains: [2, 1, 0.5] });
    for (let p = 0; p < W * H; p++) {
      expect(out[p * 3]).toBe(Math.min(255, Math.round(texture[p * 3] * 2)));
      expect(out[p * 3 + 1]).toBe(texture[p * 3 + 1]);
      expect(Math.abs(out[p * 3 + 2] - texture[p * 3 + 2] * 0.5)).toBeLessThanOrEqual(0.5);
    }
  });

  it('a smooth ramp is resampled exactly by the cubic kernel, scaled about the centre', () => {
    const ramp = makeFrame(W, H, 3, (x, y) => 40 + 2 * x + 3 * y).data as Uint8Array;
    const s = 1.03;
    const out = warp(ramp, { transform: t({ scale: s, dx: 0.4, dy: -0.3 }), gains: [1, 1, 1] });
    const cx = (W - 1) / 2;
    const cy = (H - 1) / 2;
    for (let y = 5; y < H - 5; y++)
      for (let x = 5; x < W - 5; x++) {
        const want = 40 + 2 * (s * (x - cx) + cx + 0.4) + 3 * (s * (y - cy) + cy - 0.3);
        expect(Math.abs(out[(y * W + x) * 3] - want)).toBeLessThanOrEqual(rampTolerance);
      }
  });

  it('a rotated, scaled ramp is resampled exactly by the two passes, whatever the bands', () => {
    const ramp = makeFrame(W, H, 3, (x, y) => 60 + 2 * x + 3 * y).data as Uint8Array;
    const transform = t({ scale: 1.01, rotationDeg: 3, dx: -0.6, dy: 0.35 });
    const out = warp(ramp, { transform, gains: [1, 1, 1] });
    const map = pointMapper(transform, W, H);
    for (let y = 6; y < H - 6; y++)
      for (let x = 6; x < W - 6; x++) {
        const [xs, ys] = map(x, y);
        expect(Math.abs(out[(y * W + x) * 3] - (60 + 2 * xs + 3 * ys))).toBeLessThanOrEqual(rampTolerance);
      }
    expect(Array.from(warp(ramp, { transform, gains: [1, 1, 1] }, 5))).toEqual(Array.from(out));
  });

  it('the rotation path agrees with the separable one as the rotation goes to zero, and bands do not matter', () => {
    const spec = { transform: t({ scale: 0.98, dx: 1.3, dy: 0.7 }), gains: [1, 1, 1] };
    const separable = warp(texture, spec);
    const rotated = warp(texture, { ...spec, transform: { ...spec.transform, rotationDeg: 1e-4 } }, 3);
    const diff = Array.from(separable).map((v, i) => Math.abs(v - rotated[i]));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);
    expect(Array.from(warp(texture, spec, 4))).toEqual(Array.from(separable));
  });
});

describe('coverage', () => {
  it('the identity covers everything', () => {
    const c = coverageIntervals(t({}), W, H, 2);
    for (let y = 0; y < H / 2; y++) expect([c[2 * y], c[2 * y + 1]]).toEqual([0, W / 2]);
  });

  it('a shift to the right leaves the last columns uncovered, and rows shift likewise', () => {
    const shift = t({ dx: 5, dy: -3 });
    expect(coversPixel(shift, W, H, W - 5, 10)).toBe(false);
    expect(coversPixel(shift, W, H, W - 6, 10)).toBe(true);
    expect(coversPixel(shift, W, H, 10, 2)).toBe(false);
    expect(coversPixel(shift, W, H, 10, 3)).toBe(true);
    const c = coverageIntervals(shift, W, H, 1);
    expect([c[2 * 10], c[2 * 10 + 1]]).toEqual([0, W - 5]);
    expect([c[0], c[1]][1] - [c[0], c[1]][0]).toBe(0);
  });

  it('a frame that sees more of the scene (scale < 1) covers all; a magnified one (scale > 1) leaves a border', () => {
    const grown = coverageIntervals(t({ scale: 0.95 }), W, H, 1);
    expect([grown[0], grown[1]]).toEqual([0, W]);
    const shrunk = coverageIntervals(t({ scale: 1.1 }), W, H, 1);
    const mid = Math.floor(H / 2);
    expect(shrunk[2 * mid]).toBeGreaterThan(0);
    expect(shrunk[2 * mid + 1]).toBeLessThan(W);
  });
});
