// The per-cell winner state driven frame by frame as the workers do: decide, update, then depth at
// finish. Every cell of a small grid sees the same focus curve unless a test says otherwise.
import { describe, expect, it } from 'vitest';
import {
  AUX_UNKNOWN,
  DEFAULT_SWITCH_MARGIN,
  decideRows,
  depthRows,
  updateRows,
  type DepthViews,
} from '../../../src/stack/merge/depth-state.js';

const W = 5;
const H = 4;

function views(): DepthViews {
  const n = W * H;
  return {
    width: W,
    height: H,
    score: new Float32Array(n),
    mask: new Uint8Array(n),
    best: new Float32Array(n),
    index: new Uint8Array(n),
    aux: new Uint8Array(n),
    sum: new Float32Array(n),
    confidence: new Uint8Array(n),
  };
}

/** Runs frames 0 … n-1 (scores per frame and cell) through both phases, split into two row bands. */
function run(
  scores: (frame: number, cell: number) => number,
  frames: number,
  margin = DEFAULT_SWITCH_MARGIN,
) {
  const v = views();
  const filtered = new Uint8Array(W);
  const winRows: number[][] = [];
  for (let k = 0; k < frames; k++) {
    for (let p = 0; p < W * H; p++) v.score[p] = scores(k, p);
    decideRows(v, k, 0, 2, margin);
    decideRows(v, k, 2, H, margin);
    const rows: number[] = [];
    updateRows(v, k, 0, 2, filtered, (y) => rows.push(y));
    updateRows(v, k, 2, H, filtered, (y) => rows.push(y));
    winRows.push(rows);
  }
  const depth = new Float32Array(W * H);
  depthRows(v, frames - 1, 0, H, depth);
  return { v, depth, winRows };
}

const parabola = (peak: number) => (k: number) => 10 - (k - peak) ** 2;

describe('depth state', () => {
  it('refines a parabolic focus curve to its fractional peak', () => {
    for (const peak of [2.3, 1.8, 3]) {
      const { v, depth } = run(parabola(peak), 6);
      for (let p = 0; p < W * H; p++) {
        expect(v.index[p]).toBe(Math.round(peak));
        expect(Math.abs(depth[p] - peak)).toBeLessThan(0.1);
      }
    }
  });

  it('gives the integer last index when the curve peaks at the last frame', () => {
    const { v, depth } = run((k) => k + 1, 6);
    for (let p = 0; p < W * H; p++) {
      expect(v.index[p]).toBe(5);
      expect(depth[p]).toBe(5);
    }
  });

  it('keeps frame 0 with depth 0 when the first frame is the sharpest', () => {
    const { v, depth, winRows } = run((k) => 10 - k, 4);
    for (let p = 0; p < W * H; p++) {
      expect(v.index[p]).toBe(0);
      expect(Math.abs(depth[p])).toBeLessThan(0.01);
    }
    expect(winRows[0]).toEqual([0, 1, 2, 3]);
    expect(winRows.slice(1).every((r) => r.length === 0)).toBe(true);
  });

  it('has confidence near 0 on a flat curve and near 255 on a sharp peak', () => {
    const flat = run(() => 7, 6).v;
    const peaked = run((k) => (k === 3 ? 1000 : 1), 6).v;
    for (let p = 0; p < W * H; p++) {
      expect(flat.confidence[p]).toBeLessThanOrEqual(2);
      expect(peaked.confidence[p]).toBeGreaterThanOrEqual(253);
      expect(peaked.index[p]).toBe(3);
    }
  });

  it('computes the confidence as 255 × (1 − mean of the other frames / best)', () => {
    const f = parabola(2.3);
    const { v } = run(f, 6);
    let others = 0;
    for (let k = 0; k < 6; k++) if (k !== 2) others += f(k);
    const expected = Math.round(255 * (1 - others / 5 / f(2)));
    for (let p = 0; p < W * H; p++) expect(Math.abs(v.confidence[p] - expected)).toBeLessThanOrEqual(1);
  });

  it('hysteresis: 1 % better does not take the cell with the default 2 % margin', () => {
    expect(DEFAULT_SWITCH_MARGIN).toBe(0.02);
    const curve = (k: number) => (k === 0 ? 10 : 10.1);
    const held = run(curve, 2);
    for (let p = 0; p < W * H; p++) {
      expect(held.v.index[p]).toBe(0);
      expect(held.v.mask[p] & 1).toBe(0);
      expect(held.v.best[p]).toBeCloseTo(10, 5);
    }
    const taken = run(curve, 2, 0);
    for (let p = 0; p < W * H; p++) expect(taken.v.index[p]).toBe(1);
    const clear = run((k) => (k === 0 ? 10 : 10.3), 2);
    for (let p = 0; p < W * H; p++) expect(clear.v.index[p]).toBe(1);
  });

  it('the majority filter stops a single cell from switching alone', () => {
    const lone = 2 * W + 2;
    const { v } = run((k, p) => (k === 1 && p === lone ? 50 : 10 - k), 2);
    for (let p = 0; p < W * H; p++) expect(v.index[p]).toBe(0);
    expect(v.mask[lone] & 1).toBe(1); // the raw decision was made …
    expect(v.mask[lone] & 2).toBe(0); // … and filtered out
  });

  it('records the score sum and leaves aux unknown after a single winning frame', () => {
    const { v } = run((k) => k + 2, 3);
    for (let p = 0; p < W * H; p++) {
      expect(v.sum[p]).toBeCloseTo(2 + 3 + 4, 5);
      expect(v.best[p]).toBeCloseTo(4, 5);
      expect(v.aux[p]).not.toBe(AUX_UNKNOWN); // frame 2 beat frame 1: the ratio 3/4 is known
    }
    const single = run(() => 5, 1);
    for (let p = 0; p < W * H; p++) expect(single.v.aux[p]).toBe(AUX_UNKNOWN);
  });
});
