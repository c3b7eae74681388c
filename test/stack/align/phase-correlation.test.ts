// Phase correlation against synthetic frames with known shifts: sub-pixel accuracy, the sign convention,
// wrap-around, blur and noise, and a low confidence for unrelated frames.
import { describe, expect, it } from 'vitest';
import { createPhaseCorrelator } from '../../../src/stack/align/phase-correlation.js';
import { seeded } from '../../helpers/frames.js';
import { blur as blurSquare, makeSpecimen, noisy, type Specimen } from '../../helpers/specimen.js';

const blur = (img: Float32Array, sigma: number) => blurSquare(img, SIZE, sigma);

const SIZE = 256;

const specimenOf = (seed: number, extent = 2 * SIZE): Specimen => makeSpecimen(seed, extent);

/** View whose pixel (x, y) shows specimen point (x − c − dx, y − c − dy): the specimen moved by (+dx, +dy). */
function view(sp: Specimen, dx = 0, dy = 0): Float32Array {
  const c = (SIZE - 1) / 2;
  const out = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      let v = 0.45;
      const px = x - c - dx;
      const py = y - c - dy;
      for (let w = 0; w < sp.waves.length; w += 4) {
        v +=
          sp.waves[w + 3] *
          Math.sin(2 * Math.PI * (sp.waves[w] * px + sp.waves[w + 1] * py) + sp.waves[w + 2]);
      }
      out[y * SIZE + x] = v;
    }
  for (let b = 0; b < sp.blobs.length; b += 4) {
    const [bx, by, s, a] = sp.blobs.subarray(b, b + 4);
    const qx = bx + c + dx;
    const qy = by + c + dy;
    const r = 3.5 * s;
    for (let y = Math.max(0, Math.floor(qy - r)); y <= Math.min(SIZE - 1, qy + r); y++)
      for (let x = Math.max(0, Math.floor(qx - r)); x <= Math.min(SIZE - 1, qx + r); x++) {
        out[y * SIZE + x] += a * Math.exp(-((x - qx) ** 2 + (y - qy) ** 2) / (2 * s * s));
      }
  }
  return out;
}

describe('createPhaseCorrelator', () => {
  const specimen = specimenOf(7);
  const pc = createPhaseCorrelator(SIZE);
  const a = pc.prepare(view(specimen));

  it('follows b(x, y) = a(x − dx, y − dy): a blob at (100, 60) in a, at (110, 55) in b gives (+10, −5)', () => {
    const spot = (cx: number, cy: number) =>
      Float32Array.from({ length: SIZE * SIZE }, (_, i) => {
        const x = i % SIZE;
        const y = (i - x) / SIZE;
        return (
          Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8) +
          Math.exp(-((x - cx - 40) ** 2 + (y - cy - 90) ** 2) / 18)
        );
      });
    const r = pc.correlate(pc.prepare(spot(100, 60)), pc.prepare(spot(110, 55)));
    expect(r.dx).toBeCloseTo(10, 1);
    expect(r.dy).toBeCloseTo(-5, 1);
  });

  it('recovers integer shifts, zero and negative ones included, within 0.03 px', () => {
    for (const [dx, dy] of [
      [0, 0],
      [5, -3],
      [-17, 12],
      [31, -29],
      [-1, 0],
      [0, 24],
    ]) {
      const r = pc.correlate(a, pc.prepare(view(specimen, dx, dy)));
      expect(Math.abs(r.dx - dx), `dx for (${dx}, ${dy})`).toBeLessThan(0.03);
      expect(Math.abs(r.dy - dy), `dy for (${dx}, ${dy})`).toBeLessThan(0.03);
      expect(r.confidence).toBeGreaterThan(0.5);
      expect(r.peak).toBeGreaterThan(0.3);
      expect(r.peak).toBeLessThanOrEqual(1.0001);
    }
  });

  it('recovers fractional shifts within 0.05 px', () => {
    const rnd = seeded(11);
    let worst = 0;
    for (let k = 0; k < 8; k++) {
      const dx = (rnd() - 0.5) * 60;
      const dy = (rnd() - 0.5) * 60;
      const r = pc.correlate(a, pc.prepare(view(specimen, dx, dy)));
      worst = Math.max(worst, Math.abs(r.dx - dx), Math.abs(r.dy - dy));
      expect(r.confidence).toBeGreaterThan(0.5);
    }
    expect(worst).toBeLessThan(0.05);
    // Quarter and half pixels are where a plain parabola fit is worst.
    for (const [dx, dy] of [
      [0.25, -0.5],
      [-0.75, 0.25],
      [12.5, -7.25],
    ]) {
      const r = pc.correlate(a, pc.prepare(view(specimen, dx, dy)));
      expect(Math.abs(r.dx - dx)).toBeLessThan(0.05);
      expect(Math.abs(r.dy - dy)).toBeLessThan(0.05);
    }
  });

  it('reports shifts past a third of the frame with their sign (circular wrap-around undone)', () => {
    for (const [dx, dy] of [
      [-70, 85],
      [90, -60],
    ]) {
      const r = pc.correlate(a, pc.prepare(view(specimen, dx, dy)));
      expect(Math.abs(r.dx - dx)).toBeLessThan(0.1);
      expect(Math.abs(r.dy - dy)).toBeLessThan(0.1);
    }
    // Swapping the frames negates the shift.
    const b = pc.prepare(view(specimen, -70, 85));
    const r = pc.correlate(b, a);
    expect(Math.abs(r.dx - 70)).toBeLessThan(0.1);
    expect(Math.abs(r.dy + 85)).toBeLessThan(0.1);
  });

  it('stays within 0.1 px when one frame is blurred (σ 1.5 px) and both are noisy', () => {
    const rnd = seeded(5);
    for (let k = 0; k < 6; k++) {
      const dx = (rnd() - 0.5) * 40;
      const dy = (rnd() - 0.5) * 40;
      const sharp = pc.prepare(noisy(view(specimen), 0.01, 100 + k));
      const blurred = pc.prepare(noisy(blur(view(specimen, dx, dy), 1.5), 0.01, 200 + k));
      const r = pc.correlate(sharp, blurred);
      expect(Math.abs(r.dx - dx), `case ${k}`).toBeLessThan(0.1);
      expect(Math.abs(r.dy - dy), `case ${k}`).toBeLessThan(0.1);
      expect(r.confidence).toBeGreaterThan(0.5);
    }
  });

  it('gives a low confidence for unrelated frames', () => {
    for (let k = 0; k < 5; k++) {
      const other = pc.prepare(noisy(view(specimenOf(100 + k)), 0.01, k));
      const r = pc.correlate(a, other);
      expect(r.confidence, `specimen ${100 + k}`).toBeLessThan(0.2);
      expect(r.peak).toBeLessThan(0.15);
    }
    const rnd = seeded(3);
    const white = () => pc.prepare(Float32Array.from({ length: SIZE * SIZE }, rnd));
    expect(pc.correlate(white(), white()).confidence).toBeLessThan(0.2);
  });

  it('handles a flat frame without NaN, and rejects bad sizes', () => {
    const r = pc.correlate(a, pc.prepare(new Float32Array(SIZE * SIZE).fill(0.5)));
    expect(Number.isFinite(r.dx) && Number.isFinite(r.dy)).toBe(true);
    expect(r.confidence).toBe(0);
    expect(() => createPhaseCorrelator(300)).toThrow(RangeError);
    expect(() => pc.correlate(a, createPhaseCorrelator(64).prepare(new Float32Array(64 * 64)))).toThrow(
      RangeError,
    );
  });
});
