// The cells the focus measures read: the WebAssembly SIMD path for 8-bit RGB against the JavaScript
// one (which a Uint16Array holding the same values takes), odd sizes included.
import { describe, expect, it } from 'vitest';
import { cellPassWritesLuma, luminanceRows } from '../../../src/stack/merge/luminance.js';
import { lumaRows, type PyramidViews } from '../../../src/stack/merge/pyramid.js';
import { simdAvailable } from '../../../src/stack/align/simd-module.js';
import { seeded } from '../../helpers/frames.js';

describe.each([
  { cell: 2, width: 37, height: 23 },
  { cell: 2, width: 64, height: 16 },
  { cell: 2, width: 38, height: 9 },
  { cell: 4, width: 45, height: 30 },
  { cell: 4, width: 48, height: 32 },
])('luminanceRows, RGB in $cell×$cell cells, $width×$height', ({ cell, width, height }) => {
  const rnd = seeded(width * height + cell);
  const bytes = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(256 * rnd()));
  const cellsWide = Math.ceil(width / cell);
  const cellRows = Math.ceil(height / cell);

  function cells(data: Uint8Array | Uint16Array, luma: Float32Array | null = null, from = 0, to = cellRows) {
    const out = new Float32Array(cellsWide * cellRows);
    const sum = new Float32Array(cellsWide * cellRows * 3);
    luminanceRows({ data, width, height, channels: 3, maxValue: 255, cell }, 0, cellRows, out.subarray(0), {
      sum,
      from,
      to,
      luma,
    });
    return { out, sum };
  }

  it('gives the JavaScript path’s luminance and mean colour for every cell, edges included', () => {
    expect(simdAvailable()).toBe(true);
    const simd = cells(bytes);
    const js = cells(Uint16Array.from(bytes));
    for (let i = 0; i < simd.out.length; i++) expect(simd.out[i]).toBeCloseTo(js.out[i], 6);
    for (let i = 0; i < simd.sum.length; i++) expect(simd.sum[i]).toBeCloseTo(js.sum[i], 3);
  });

  it('writes the pyramid’s per-pixel luma of its own rows, as lumaRows computes it', () => {
    expect(cellPassWritesLuma({ data: bytes, width, height, channels: 3, maxValue: 255, cell })).toBe(true);
    // Own rows: all but the first cell row (a neighbour's halo here), whose pixels stay untouched.
    const luma = new Float32Array(width * height).fill(-1);
    cells(bytes, luma, 1, cellRows);
    const expected = new Float32Array(width * height);
    const views = { g: { width, channels: 3 }, maxValue: 255, frame: bytes, luma: expected };
    lumaRows(views as unknown as PyramidViews, 0, height);
    for (let p = 0; p < cell * width; p++) expect(luma[p]).toBe(-1);
    for (let p = cell * width; p < width * height; p++) expect(luma[p]).toBeCloseTo(expected[p], 6);
  });
});
