// The WebAssembly SIMD kernels against the JavaScript paths they replace for 8-bit RGB frames.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWarpScratch, warpRows, type WarpSpec } from '../../../src/stack/align/resample.js';
import { sampledRows, SimdLuminanceBinner } from '../../../src/stack/align/simd-bin.js';
import { simdAvailable } from '../../../src/stack/align/simd-module.js';
import { simdWarpApplies } from '../../../src/stack/align/simd-warp.js';
import { IDENTITY, type FrameTransform } from '../../../src/stack/align/transform.js';
import { makeFrame } from '../../helpers/frames.js';

// Taller than one strip (128 rows), so strip seams are crossed.
const W = 301;
const H = 290;
const g = { width: W, height: H, channels: 3 as const, maxValue: 255 };
const t = (p: Partial<FrameTransform>): FrameTransform => ({ ...IDENTITY, ...p });

// A specimen-like picture: smooth shading, fine texture and a few hard edges.
const picture = makeFrame(W, H, 3, (x, y, c) => {
  const smooth = 110 + 60 * Math.sin(x / 17 + c) * Math.cos(y / 23);
  const texture = 25 * Math.sin(x * 0.9 + y * 0.4) * Math.sin(y * 0.7);
  const edge = (x > 150 && y > 100 && y < 200) || (x - y) % 61 === 0 ? 60 : 0;
  return Math.max(0, Math.min(255, smooth + texture + edge));
}).data as Uint8Array;

function warp(spec: WarpSpec, simd: boolean, bands = 1): Uint8Array {
  const dst = new Uint8Array(picture.length);
  const scratch = createWarpScratch(W, 3, { simd });
  for (let b = 0; b < bands; b++)
    warpRows(picture, dst, g, spec, Math.floor((H * b) / bands), Math.floor((H * (b + 1)) / bands), scratch);
  return dst;
}

describe('the WebAssembly SIMD kernels', () => {
  it('are built and accepted by this runtime (npm run build:wasm)', () => {
    const built = existsSync(new URL('../../../dist/wasm/warp.wasm', import.meta.url));
    expect(built).toBe(true);
    expect(simdAvailable()).toBe(true);
  });

  it('take 8-bit RGB with rotations up to ~0.2°, and leave the rest to the float path', () => {
    const spec = (p: Partial<FrameTransform>) => ({ transform: t(p), gains: [1, 1, 1] });
    expect(simdWarpApplies(g, spec({ rotationDeg: 0.1, scale: 1.01, dx: 3 }))).toBe(true);
    expect(simdWarpApplies(g, spec({ rotationDeg: 1 }))).toBe(false);
    expect(simdWarpApplies({ ...g, channels: 1 }, spec({}))).toBe(false);
    expect(simdWarpApplies({ ...g, maxValue: 65535 }, spec({}))).toBe(false);
  });

  describe.each([
    { name: 'a sub-pixel shift', transform: t({ dx: 0.37, dy: -1.61 }), gains: [1, 1, 1] },
    { name: 'focus breathing', transform: t({ scale: 1.012, dx: -2.2, dy: 0.8 }), gains: [1, 1, 1] },
    { name: 'a wider field', transform: t({ scale: 0.985, dx: 1.1 }), gains: [1, 1, 1] },
    { name: 'a 0.1° turn', transform: t({ rotationDeg: 0.1, scale: 1.004, dx: 0.5 }), gains: [1, 1, 1] },
    { name: 'exposure gains', transform: t({ dx: 0.25, dy: 0.75 }), gains: [1.08, 0.95, 1.6] },
    { name: 'a large shift (edges replicated)', transform: t({ dx: 23.4, dy: -17.9 }), gains: [1, 1, 1] },
  ])('with $name', (spec) => {
    const float = warp(spec, false);
    const simd = warp(spec, true);

    it('agrees with the float path: within 1 level almost everywhere, 3 at worst (clamped overshoot)', () => {
      let within1 = 0;
      let worst = 0;
      for (let i = 0; i < float.length; i++) {
        const d = Math.abs(float[i] - simd[i]);
        if (d <= 1) within1++;
        worst = Math.max(worst, d);
      }
      expect(within1 / float.length).toBeGreaterThan(0.995);
      expect(worst).toBeLessThanOrEqual(3);
    });

    it('gives the same bytes however the rows are split between workers', () => {
      expect(Buffer.from(warp(spec, true, 3)).equals(Buffer.from(simd))).toBe(true);
    });
  });

  it('bins linear-light luminance over the sampled rows like the definition', () => {
    const binner = SimdLuminanceBinner.create()!;
    const linear = Float32Array.from({ length: 256 }, (_, i) => (i / 255) ** 2.2);
    const weights = [0.299, 0.587, 0.114];
    const weighted = weights.map((w) => linear.map((v) => v * w));
    const frame = { width: W, height: H, channels: 3 as const, bitDepth: 8 as const, data: picture };
    for (const factor of [3, 4, 6]) {
      const rows = sampledRows(factor);
      const ws = Math.floor(W / factor);
      const hs = Math.floor(H / factor);
      const bins = binner.bin(frame, factor, rows, ws, hs, weighted);
      for (let v = 0; v < hs; v++)
        for (let u = 0; u < ws; u++) {
          let want = 0;
          for (const r of rows)
            for (let x = u * factor; x < (u + 1) * factor; x++)
              for (let c = 0; c < 3; c++) want += weighted[c][picture[((v * factor + r) * W + x) * 3 + c]];
          expect(bins[v * ws + u]).toBeCloseTo(want, 4);
        }
    }
  });

  it('samples every row of small bins, and half the rows of larger ones, centred on the bin', () => {
    for (let factor = 1; factor <= 16; factor++) {
      const rows = sampledRows(factor);
      const mean = rows.reduce((a, b) => a + b, 0) / rows.length;
      expect(mean).toBeCloseTo((factor - 1) / 2, 9);
      expect(new Set(rows).size).toBe(rows.length);
      expect(rows.every((r) => Number.isInteger(r) && r >= 0 && r < factor)).toBe(true);
      if (factor < 4) expect(rows.length).toBe(factor);
      else expect(rows.length).toBeLessThanOrEqual(Math.ceil(factor / 2) + 1);
    }
    expect(sampledRows(8)).toEqual([0, 2, 5, 7]);
  });
});
