// The shared layout of a stack: row bands, pyramid levels and offsets, cell size and grid.
import { describe, expect, it } from 'vitest';
import {
  allocateBuffers,
  bandOf,
  CELL_2_MIN_PIXELS,
  CELL_4_MIN_PIXELS,
  cellGrid,
  cellSizeFor,
  MAX_PYRAMID_LEVELS,
  pyramidLayout,
  pyramidLevelsFor,
  type StackGeometry,
} from '../../../src/stack/workers/layout.js';

function geometry(width: number, height: number, extra: Partial<StackGeometry> = {}): StackGeometry {
  return {
    width,
    height,
    channels: 3,
    bitDepth: 8,
    method: 'pyramid',
    levels: pyramidLevelsFor(width, height),
    cell: cellSizeFor(width, height),
    ...extra,
  };
}

describe('bandOf', () => {
  it('covers [0, rows) exactly, in order, without gaps or overlaps', () => {
    for (const rows of [0, 1, 2, 3, 7, 10, 64, 1001, 3000])
      for (const count of [1, 2, 3, 4, 7, 8, 16, 33]) {
        let next = 0;
        for (let i = 0; i < count; i++) {
          const { start, end } = bandOf(rows, count, i);
          expect(start).toBe(next);
          expect(end).toBeGreaterThanOrEqual(start);
          // Balanced: band sizes differ by at most one row.
          expect(end - start).toBeGreaterThanOrEqual(Math.floor(rows / count));
          expect(end - start).toBeLessThanOrEqual(Math.ceil(rows / count));
          next = end;
        }
        expect(next).toBe(rows);
      }
  });

  it('gives empty bands to surplus workers when count > rows', () => {
    const sizes = Array.from({ length: 8 }, (_, i) => bandOf(3, 8, i)).map(({ start, end }) => end - start);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(3);
    expect(sizes.filter((n) => n === 0).length).toBe(5);
  });
});

describe('pyramid levels and layout', () => {
  it('caps the levels for large frames and keeps at least one for tiny ones', () => {
    const big = pyramidLevelsFor(4000, 3000);
    expect(big).toBeLessThanOrEqual(MAX_PYRAMID_LEVELS);
    expect(big).toBeGreaterThanOrEqual(6);
    for (const [w, h] of [
      [1, 1],
      [2, 3],
      [7, 5],
      [15, 15],
    ])
      expect(pyramidLevelsFor(w, h)).toBe(1);
    expect(pyramidLevelsFor(64, 64)).toBe(3); // 32, 16, 8: the residual stays at least 8 wide
    expect(pyramidLevelsFor(64, 15)).toBe(1);
  });

  it('has contiguous offsets whose lengths add up', () => {
    for (const [w, h] of [
      [4000, 3000],
      [257, 131],
      [7, 5],
    ]) {
      const g = geometry(w, h);
      const layout = pyramidLayout(g);
      expect(layout.levels.length).toBe(g.levels + 1);
      let [gauss, fused] = [0, 0];
      layout.levels.forEach((level, l) => {
        if (l === 0) expect([level.width, level.height]).toEqual([w, h]);
        else {
          const above = layout.levels[l - 1];
          expect([level.width, level.height]).toEqual([
            Math.ceil(above.width / 2),
            Math.ceil(above.height / 2),
          ]);
        }
        if (l >= 1) {
          expect(level.gaussOffset).toBe(gauss);
          gauss += level.width * level.height;
        } else expect(level.gaussOffset).toBe(-1);
        if (l < g.levels) {
          expect(level.fusedOffset).toBe(fused);
          fused += level.width * level.height;
        } else expect(level.fusedOffset).toBe(-1);
      });
      expect(layout.gaussLength).toBe(gauss);
      expect(layout.fusedLength).toBe(fused);
    }
  });
});

describe('cells', () => {
  it('uses 1-pixel cells below CELL_2_MIN_PIXELS, 2×2 up to CELL_4_MIN_PIXELS, 4×4 from there', () => {
    expect(cellSizeFor(100, 100)).toBe(1);
    expect(cellSizeFor(999, 500)).toBe(1);
    expect(cellSizeFor(1000, 500)).toBe(2);
    expect(1000 * 500).toBe(CELL_2_MIN_PIXELS);
    expect(cellSizeFor(2592, 1944)).toBe(2); // OV5647, 5 MP
    expect(cellSizeFor(4000, 1999)).toBe(2);
    expect(cellSizeFor(4000, 2000)).toBe(4);
    expect(4000 * 2000).toBe(CELL_4_MIN_PIXELS);
    expect(cellSizeFor(4056, 3040)).toBe(4); // IMX477, 12 MP
  });

  it('rounds the cell grid up', () => {
    expect(cellGrid(geometry(7, 5, { cell: 2 }))).toEqual({ width: 4, height: 3 });
    expect(cellGrid(geometry(8, 6, { cell: 2 }))).toEqual({ width: 4, height: 3 });
    expect(cellGrid(geometry(7, 5, { cell: 1 }))).toEqual({ width: 7, height: 5 });
  });

  it('allocates per-cell state on the cell grid, including the score sum', () => {
    const b = allocateBuffers(geometry(7, 5, { cell: 2, method: 'depthmap', levels: 0 }));
    expect(b.score.byteLength).toBe(12 * 4);
    expect(b.scoreSum.byteLength).toBe(12 * 4);
    expect(b.mask.byteLength).toBe(12);
    expect(b.colourSum.byteLength).toBe(12 * 3 * 4);
    expect(b.composite?.byteLength).toBe(7 * 5 * 3);
  });
});
