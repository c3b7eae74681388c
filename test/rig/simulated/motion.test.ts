// Checks the simulated rig's motion: the bicubic warp's geometry (shift, scale, rotation about the centre),
// wobble transforms, and that moved synthetic stacks really are the still stack seen through their transforms.

import { describe, expect, it } from 'vitest';
import type { FrameTransform } from '../../../src/stack/align/transform.js';
import type { Frame } from '../../../src/stack/types.js';
import { pointMapper } from '../../../src/stack/align/transform.js';
import {
  rebaseTransforms,
  viewOverhang,
  warpFrame,
  wobbleTransforms,
} from '../../../src/rig/simulated/motion.js';
import { mulberry32 } from '../../../src/rig/simulated/prng.js';
import { makeSyntheticStack, renderSyntheticFrames } from '../../../src/rig/simulated/stack.js';

function randomFrame(w: number, h: number, channels: 1 | 3, bitDepth: 8 | 16, seed = 1): Frame {
  const rng = mulberry32(seed);
  const n = w * h * channels;
  const data = bitDepth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  const max = bitDepth === 8 ? 256 : 65536;
  for (let i = 0; i < n; i++) data[i] = Math.floor(rng() * max);
  return { width: w, height: h, channels, bitDepth, data };
}

/** A dark grey frame with gaussian dots (sigma 1.5 px, peak 60000) at the given positions. */
function dotFrame(w: number, h: number, dots: [number, number][]): Frame {
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 1000;
      for (const [cx, cy] of dots) v += 60000 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5 ** 2));
      data[y * w + x] = Math.round(v);
    }
  }
  return { width: w, height: h, channels: 1, bitDepth: 16, data };
}

/** Background-subtracted centroid of a grey frame within r px of (x0, y0). */
function centroid(f: Frame, x0: number, y0: number, r = 8): [number, number] {
  let [s, sx, sy] = [0, 0, 0];
  for (let y = Math.round(y0) - r; y <= Math.round(y0) + r; y++) {
    for (let x = Math.round(x0) - r; x <= Math.round(x0) + r; x++) {
      const v = Math.max(0, f.data[y * f.width + x] - 1000);
      [s, sx, sy] = [s + v, sx + v * x, sy + v * y];
    }
  }
  return [sx / s, sy / s];
}

/** Pixel-sample differences between two same-format frames over the region inset by `m` px. */
function diffStats(a: Frame, b: Frame, m: number): { max: number; mean: number } {
  const { width: w, height: h, channels: nc } = a;
  let [max, sum, n] = [0, 0, 0];
  for (let y = m; y < h - m; y++) {
    for (let i = (y * w + m) * nc; i < (y * w + w - m) * nc; i++) {
      const d = Math.abs(a.data[i] - b.data[i]);
      [max, sum, n] = [Math.max(max, d), sum + d, n + 1];
    }
  }
  return { max, mean: sum / n };
}

const same = (a: Frame, b: Frame) => Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer));
const ID = { dx: 0, dy: 0, scale: 1, rotationDeg: 0 };

describe('warpFrame', () => {
  it('returns the same pixels for the identity, at every format', () => {
    for (const [nc, bd] of [
      [1, 8],
      [3, 8],
      [1, 16],
      [3, 16],
    ] as const) {
      const f = randomFrame(37, 23, nc, bd);
      const out = warpFrame(f, ID);
      expect(out).toMatchObject({ width: 37, height: 23, channels: nc, bitDepth: bd });
      expect(same(out, f)).toBe(true);
    }
  });

  it('crops the centred window when out is smaller', () => {
    const f = randomFrame(40, 30, 3, 8);
    const out = warpFrame(f, ID, {
      width: 24,
      height: 20,
      channels: 3,
      bitDepth: 8,
      data: new Uint8Array(24 * 20 * 3),
    });
    for (let y = 0; y < 20; y++) {
      for (let i = 0; i < 24 * 3; i++) expect(out.data[y * 72 + i]).toBe(f.data[((y + 5) * 40 + 8) * 3 + i]);
    }
  });

  it('moves content by exactly an integer shift', () => {
    const f = randomFrame(50, 40, 3, 16, 7);
    const out = warpFrame(f, { ...ID, dx: 3, dy: -2 });
    // Frame pixel (x, y) shows reference pixel (x − 3, y + 2); elsewhere the edge is repeated.
    for (let y = 0; y < 38; y++) {
      for (let x = 3; x < 50; x++) {
        for (let c = 0; c < 3; c++)
          expect(out.data[(y * 50 + x) * 3 + c]).toBe(f.data[((y + 2) * 50 + x - 3) * 3 + c]);
      }
    }
    expect(out.data[(10 * 50 + 0) * 3]).toBe(f.data[(12 * 50 + 0) * 3]);
  });

  it('scales about the centre: the centre stays, a point at distance d moves to scale·d', () => {
    const [w, h] = [81, 61];
    const [cx, cy] = [40, 30];
    const f = dotFrame(w, h, [
      [cx, cy],
      [cx + 25, cy],
      [cx - 12, cy - 18],
    ]);
    const out = warpFrame(f, { ...ID, scale: 1.1 });
    expect(Math.abs(out.data[cy * w + cx] - f.data[cy * w + cx])).toBeLessThanOrEqual(1);
    const [x0, y0] = centroid(out, cx, cy);
    expect(Math.hypot(x0 - cx, y0 - cy)).toBeLessThan(0.02);
    const [x1, y1] = centroid(out, cx + 27.5, cy);
    expect(x1 - cx).toBeCloseTo(27.5, 1);
    expect(y1 - cy).toBeCloseTo(0, 1);
    const [x2, y2] = centroid(out, cx - 13.2, cy - 19.8);
    expect(x2 - cx).toBeCloseTo(-13.2, 1);
    expect(y2 - cy).toBeCloseTo(-19.8, 1);
    // Scale below 1 shrinks the view towards the centre.
    const [x3] = centroid(warpFrame(f, { ...ID, scale: 0.9 }), cx + 22.5, cy);
    expect(x3 - cx).toBeCloseTo(22.5, 1);
  });

  it('rotates clockwise on screen for positive degrees, then shifts', () => {
    const f = dotFrame(81, 61, [[60, 30]]);
    // (20, 0) from the centre → rotated 30° to (17.32, 10) → shifted by (1.5, −2.25).
    const out = warpFrame(f, { dx: 1.5, dy: -2.25, scale: 1, rotationDeg: 30 });
    const [x, y] = centroid(out, 40 + 17.32 + 1.5, 30 + 10 - 2.25);
    expect(x).toBeCloseTo(40 + 20 * Math.cos(Math.PI / 6) + 1.5, 1);
    expect(y).toBeCloseTo(30 + 20 * Math.sin(Math.PI / 6) - 2.25, 1);
  });

  it('adds sensor noise after the warp, unsmoothed', () => {
    const f: Frame = {
      width: 64,
      height: 64,
      channels: 1,
      bitDepth: 16,
      data: new Uint16Array(4096).fill(30000),
    };
    const out = warpFrame(f, { dx: 0.5, dy: 0.5, scale: 1.01, rotationDeg: 0.3 }, undefined, {
      noise: 0.01,
      seed: 3,
    });
    const std = Math.sqrt(Array.from(out.data).reduce((s, v) => s + (v - 30000) ** 2, 0) / 4096);
    expect(std / 655.35).toBeGreaterThan(0.95);
    expect(std / 655.35).toBeLessThan(1.05);
  });

  it('rejects a mismatched or aliased out', () => {
    const f = randomFrame(8, 8, 3, 8);
    expect(() => warpFrame(f, ID, { ...f, channels: 1, data: new Uint8Array(64) })).toThrow(RangeError);
    expect(() => warpFrame(f, ID, { ...f, data: new Uint16Array(192) })).toThrow(RangeError);
    expect(() => warpFrame(f, ID, f)).toThrow(RangeError);
    expect(() => warpFrame(f, { ...ID, scale: 0 })).toThrow(RangeError);
  });
});

describe('wobbleTransforms', () => {
  it('is deterministic, starts at the identity and stays within its bounds', () => {
    const a = wobbleTransforms(30, { seed: 9 });
    expect(wobbleTransforms(30, { seed: 9 })).toEqual(a);
    expect(wobbleTransforms(30, { seed: 10 })).not.toEqual(a);
    expect(a).toHaveLength(30);
    expect(a[0]).toEqual({ dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 });
    for (let i = 1; i < 30; i++) {
      const step = Math.hypot(a[i].dx - a[i - 1].dx, a[i].dy - a[i - 1].dy);
      expect(step).toBeLessThanOrEqual(1.5 + 1e-12);
      expect(a[i].scale).toBeCloseTo(1 + 0.0015 * i, 12);
      expect(Math.abs(a[i].rotationDeg)).toBeLessThanOrEqual(0.2);
      expect(a[i].confidence).toBe(1);
    }
    // It does move: a walk of 29 steps up to 1.5 px wanders at least a pixel or two.
    expect(Math.max(...a.map((t) => Math.hypot(t.dx, t.dy)))).toBeGreaterThan(1);
    const b = wobbleTransforms(12, { seed: 2, shiftPx: 4, scalePerFrame: -0.002, rotationDeg: 1 });
    expect(b[11].scale).toBeCloseTo(0.978, 12);
    for (const t of b) expect(Math.abs(t.rotationDeg)).toBeLessThanOrEqual(1);
    expect(wobbleTransforms(5, { seed: 1, shiftPx: 0, scalePerFrame: 0, rotationDeg: 0 })).toEqual(
      Array.from({ length: 5 }, () => ({ dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 })),
    );
    expect(() => wobbleTransforms(0, { seed: 1 })).toThrow(RangeError);
  });
});

describe('rebaseTransforms', () => {
  it('makes frame k the reference: each frame still sees every scene point where it saw it', () => {
    const [w, h] = [400, 300];
    const motion = wobbleTransforms(9, { seed: 4, shiftPx: 3, scalePerFrame: 0.004, rotationDeg: 0.5 });
    const rebased = rebaseTransforms(motion, 4);
    expect(rebased[4]).toEqual({ dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 });
    // A point of frame 0's view lies at P4 = T4(p) in frame 4's; frame i must find it at Ti(p) from P4.
    for (const [x, y] of [
      [0, 0],
      [399, 0],
      [123, 277],
    ])
      for (let i = 0; i < motion.length; i++) {
        const [x4, y4] = pointMapper(motion[4], w, h)(x, y);
        const [xi, yi] = pointMapper(motion[i], w, h)(x, y);
        const [xr, yr] = pointMapper(rebased[i], w, h)(x4, y4);
        expect(Math.hypot(xr - xi, yr - yi)).toBeLessThan(1e-9);
      }
    expect(rebaseTransforms(motion, 0)).toEqual(motion.map((t) => ({ ...t })));
    expect(() => rebaseTransforms(motion, 9)).toThrow(/below 9/);
  });
});

describe('synthetic stacks with motion', () => {
  const base = { width: 160, height: 120, frames: 5, seed: 11, depthRangeUm: 40 } as const;
  const motion = { shiftPx: 2, scalePerFrame: 0.004, rotationDeg: 0.5 };

  it('keeps still stacks as they were, with identity transforms and unit gains', () => {
    const s = makeSyntheticStack(base);
    expect(s.marginPx).toBe(0);
    expect(s.transforms).toEqual(
      Array.from({ length: 5 }, () => ({ dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 })),
    );
    expect(s.gains).toEqual([1, 1, 1, 1, 1]);
  });

  it('renders each frame as the larger still stack warped by its true transform', () => {
    const moved = makeSyntheticStack({ ...base, motion });
    const { marginPx: m, scene } = moved;
    expect(moved.transforms).toEqual(wobbleTransforms(5, { seed: 11, ...motion }));
    expect(m % 8).toBe(0);
    expect(m).toBeGreaterThanOrEqual(viewOverhang(moved.transforms, 160, 120) + 2);
    expect([scene.width, scene.height]).toEqual([160, 120]);
    const big = makeSyntheticStack({ ...base, width: 160 + 2 * m, height: 120 + 2 * m });
    for (let i = 0; i < 5; i++) {
      const f = moved.frames[i];
      expect(f).toMatchObject({ width: 160, height: 120, channels: 3, bitDepth: 8 });
      const want = warpFrame(big.frames[i], moved.transforms[i], {
        ...f,
        data: new Uint8Array(f.data.length),
      });
      expect(same(f, want)).toBe(true);
    }
  });

  it('renders a requested margin of real scene around a still stack, and a given surface', () => {
    const tilted = (x: number, y: number) => 10 + 0.1 * x + 0.05 * y;
    const framed = makeSyntheticStack({ ...base, marginPx: 12, surface: tilted });
    // Rounded up to the shrink grid; the frames are the middle of a render of the larger scene.
    expect(framed.marginPx).toBe(16);
    expect(framed.transforms.every((t) => t.dx === 0 && t.scale === 1)).toBe(true);
    const big = makeSyntheticStack({
      ...base,
      width: 192,
      height: 152,
      surface: (x, y) => tilted(x - 16, y - 16),
    });
    for (let i = 0; i < 5; i++) {
      const f = framed.frames[i];
      const crop = new Uint8Array(f.data.length);
      for (let y = 0; y < 120; y++)
        crop.set(big.frames[i].data.subarray(((y + 16) * 192 + 16) * 3, ((y + 16) * 192 + 176) * 3), y * 480);
      expect(same(f, { ...f, data: crop })).toBe(true);
    }
    expect(framed.scene.depthUm[0]).toBeCloseTo(10, 5);
    expect(framed.scene.depthUm[119 * 160 + 159]).toBeCloseTo(10 + 15.9 + 5.95, 4);
  });

  it('shows the truth scene through the transforms (independent of the margin)', () => {
    const moved = makeSyntheticStack({ ...base, motion });
    // The same scene without a margin: equal away from the edges, where blur sees the scene beyond.
    const still = makeSyntheticStack({ ...base, scene: moved.scene });
    expect(diffStats(moved.frames[0], still.frames[0], 12).max).toBeLessThanOrEqual(1);
    for (let i = 1; i < 5; i++) {
      const warped = warpFrame(still.frames[i], moved.transforms[i]);
      const unwarped = diffStats(moved.frames[i], still.frames[i], 12);
      const d = diffStats(moved.frames[i], warped, 12);
      expect(d.max).toBeLessThanOrEqual(1);
      expect(d.mean).toBeLessThan(0.05);
      // Not trivially so: the motion itself changes the pixels a lot.
      expect(unwarped.mean).toBeGreaterThan(10 * d.mean + 1);
    }
  });

  it('takes explicit transforms and drifts the exposure', () => {
    const transforms: FrameTransform[] = [
      { dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 },
      { dx: 5, dy: -3, scale: 1, rotationDeg: 0, confidence: 1 },
      { dx: 0, dy: 0, scale: 1.03, rotationDeg: -0.4, confidence: 1 },
    ];
    const opts = {
      ...base,
      frames: 3,
      motion: transforms,
      exposureDrift: 0.05,
      channels: 1,
      bitDepth: 16,
    } as const;
    const s = makeSyntheticStack(opts);
    expect(s.transforms).toEqual(transforms);
    expect(s.gains[0]).toBe(1);
    expect(s.gains[1]).not.toBe(1);
    expect(s.gains).toEqual(makeSyntheticStack(opts).gains);
    // Frame 1 is frame-0 geometry shifted by whole pixels: same content as a drift-free render at its gain.
    const ref = makeSyntheticStack({ ...opts, exposureDrift: 0, exposureGain: s.gains[1] });
    expect(same(s.frames[1], ref.frames[1])).toBe(true);
    // Frame pixel (x, y) shows reference pixel (x − 5, y + 3) of the still scene rendered at that gain.
    const still = makeSyntheticStack({
      ...opts,
      motion: undefined,
      exposureDrift: 0,
      exposureGain: s.gains[1],
      scene: s.scene,
    });
    let worst = 0;
    for (let y = 16; y < 104; y++) {
      for (let x = 16; x < 144; x++) {
        worst = Math.max(
          worst,
          Math.abs(s.frames[1].data[y * 160 + x] - still.frames[1].data[(y + 3) * 160 + x - 5]),
        );
      }
    }
    expect(worst).toBeLessThanOrEqual(16);
    expect(() => makeSyntheticStack({ ...opts, motion: transforms.slice(1) })).toThrow(RangeError);
  });

  it('yields the same moved frames one at a time, with their transform and gain', () => {
    const opts = { ...base, motion, exposureDrift: 0.02, noise: 0.005 };
    const whole = makeSyntheticStack(opts);
    const buffers = new Set<ArrayBufferLike>();
    for (const { index, frame, transform, gain } of renderSyntheticFrames({ ...opts, reuseBuffer: true })) {
      expect(same(frame, whole.frames[index])).toBe(true);
      expect(transform).toEqual(whole.transforms[index]);
      expect(gain).toBe(whole.gains[index]);
      buffers.add(frame.data.buffer);
    }
    expect(buffers.size).toBe(1);
  });
});
