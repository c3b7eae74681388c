// majorityRow: the 3×3 majority vote (≥ 5 of 9) on bit 0 of a mask, edges replicated.
import { describe, expect, it } from 'vitest';
import { majorityRow } from '../../../src/stack/merge/consistency.js';
import { seeded } from '../../helpers/frames.js';

function filter(mask: Uint8Array, width: number, height: number, offset = 0): number[][] {
  const rows: number[][] = [];
  const out = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    majorityRow(mask, offset, width, height, y, out);
    rows.push(Array.from(out));
  }
  return rows;
}

function naive(mask: Uint8Array, width: number, height: number): number[][] {
  const at = (x: number, y: number) =>
    mask[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))] & 1;
  return Array.from({ length: height }, (_, y) =>
    Array.from({ length: width }, (_, x) => {
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) n += at(x + dx, y + dy);
      return n >= 5 ? 1 : 0;
    }),
  );
}

const grid = (w: number, h: number, f: (x: number, y: number) => number) =>
  Uint8Array.from({ length: w * h }, (_, p) => f(p % w, Math.floor(p / w)));

describe('majorityRow', () => {
  it('removes an isolated 1 in a field of 0', () => {
    const rows = filter(
      grid(5, 5, (x, y) => (x === 2 && y === 2 ? 1 : 0)),
      5,
      5,
    );
    expect(rows.flat().every((v) => v === 0)).toBe(true);
  });

  it('fills an isolated 0 in a field of 1', () => {
    const rows = filter(
      grid(5, 5, (x, y) => (x === 2 && y === 2 ? 0 : 1)),
      5,
      5,
    );
    expect(rows.flat().every((v) => v === 1)).toBe(true);
  });

  it('keeps a straight 3-pixel-wide band of 1s, its middle row intact', () => {
    const rows = filter(
      grid(8, 7, (_, y) => (y >= 2 && y <= 4 ? 1 : 0)),
      8,
      7,
    );
    expect(rows[3]).toEqual(new Array(8).fill(1));
    expect(rows[0]).toEqual(new Array(8).fill(0));
    expect(rows[6]).toEqual(new Array(8).fill(0));
  });

  it('replicates edges: a 1×1 mask with bit 0 set yields 1', () => {
    expect(filter(Uint8Array.of(1), 1, 1)).toEqual([[1]]);
    expect(filter(Uint8Array.of(0), 1, 1)).toEqual([[0]]);
  });

  it('ignores every bit but bit 0', () => {
    expect(filter(Uint8Array.of(2), 1, 1)).toEqual([[0]]);
    expect(filter(Uint8Array.of(3), 1, 1)).toEqual([[1]]);
    const rows = filter(
      grid(4, 3, () => 0b110),
      4,
      3,
    );
    expect(rows.flat().every((v) => v === 0)).toBe(true);
  });

  it('a corner pixel counts replicated neighbours', () => {
    // Corner 1 at (0,0) with its right neighbour: replicated it is seen 4 + 2 = 6 times.
    const rows = filter(
      grid(4, 4, (x, y) => (y === 0 && x <= 1 ? 1 : 0)),
      4,
      4,
    );
    expect(rows[0][0]).toBe(1);
    expect(rows[1][0]).toBe(0);
  });

  for (const [w, h] of [
    [1, 6],
    [6, 1],
    [2, 2],
    [7, 5],
    [16, 9],
  ]) {
    it(`matches a naive 3×3 majority on random ${w}×${h} masks (with offset and bit 1 noise)`, () => {
      const rnd = seeded(w * 10 + h);
      const mask = grid(w, h, () => (rnd() < 0.5 ? 1 : 0) | (rnd() < 0.5 ? 2 : 0));
      const padded = new Uint8Array(mask.length + 3);
      padded.set(mask, 3);
      expect(filter(padded, w, h, 3)).toEqual(naive(mask, w, h));
    });
  }
});
