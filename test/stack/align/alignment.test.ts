// Alignment against the truth: synthetic stacks that wobble and breathe with known transforms.
import { describe, expect, it } from 'vitest';
import { makeIntegratedStack } from '../../../src/rig/simulated/pixel-integration.js';
import { viewOverhang } from '../../../src/rig/simulated/motion.js';
import { makeSyntheticStack, truthImage } from '../../../src/rig/simulated/stack.js';
import { psnr, psnrInside } from '../../../src/rig/simulated/score.js';
import { compose, invert } from '../../../src/stack/align/transform.js';
import {
  FrameAligner,
  maxDisplacement,
  MIN_RESAMPLE_MOTION_PX,
  MIN_RESAMPLE_SCALE,
  needsResampling,
} from '../../../src/stack/align/aligner.js';
import { Stacker } from '../../../src/stack/stacker.js';
import type { Frame } from '../../../src/stack/types.js';

async function stackAligned(frames: Frame[], mode: 'none' | 'similarity') {
  const aligner = new FrameAligner(mode);
  aligner.setReference(frames[0]);
  const stacker = new Stacker({ aligned: true, threads: 2 });
  const reports = [];
  for (const f of frames) {
    const { report, warp } = aligner.align(f);
    reports.push(report);
    await stacker.add(f, warp);
  }
  return { result: await stacker.finish(), reports };
}

const motion = { shiftPx: 2, scalePerFrame: 0.002, rotationDeg: 0.3 };

describe('FrameAligner on a wobbling, breathing synthetic stack', () => {
  const stack = makeSyntheticStack({ width: 384, height: 288, frames: 10, seed: 5, noise: 0.004, motion });
  const errors = (() => {
    const aligner = new FrameAligner('similarity');
    aligner.setReference(stack.frames[0]);
    return stack.frames.map((frame, i) => {
      const { report } = aligner.align(frame);
      const truth = stack.transforms[i];
      return {
        trusted: report.trusted,
        shift: Math.hypot(report.transform.dx - truth.dx, report.transform.dy - truth.dy),
        scale: Math.abs(report.transform.scale / truth.scale - 1),
        rotation: Math.abs(report.transform.rotationDeg - truth.rotationDeg),
      };
    });
  })();

  it('recovers the transforms of frames near the reference’s focus within 0.1 px and 0.05 % scale', () => {
    for (const e of errors.slice(0, 4)) {
      expect(e.shift).toBeLessThan(0.1);
      expect(e.scale).toBeLessThan(5e-4);
      expect(e.rotation).toBeLessThan(0.05);
    }
  });

  it('keeps every frame’s estimate within 0.5 px and 0.5 % scale, and trusted', () => {
    for (const e of errors) {
      expect(e.trusted).toBe(true);
      expect(e.shift).toBeLessThan(0.5);
      expect(e.scale).toBeLessThan(5e-3);
    }
  });

  it('meets the targets for every frame, far-from-focus ones chained through neighbours: 0.1 px and 0.05 % scale', () => {
    for (const e of errors) {
      expect(e.shift).toBeLessThan(0.1);
      expect(e.scale).toBeLessThan(5e-4);
    }
  });

  describe('stacking', async () => {
    const truth = truthImage(stack.scene).data;
    const aligned = psnr((await stackAligned(stack.frames, 'similarity')).result.image, truth, 255);
    const unaligned = psnr((await stackAligned(stack.frames, 'none')).result.image, truth, 255);

    it('aligned, beats the unaligned stack by 3 dB', () => {
      expect(aligned).toBeGreaterThan(unaligned + 3);
    });
  });
});

// The quality target: PSNR within 1 dB of the same stack without wobble. The frames come from
// makeIntegratedStack, which renders at 2× and integrates over pixels like a sensor: the bicubic
// generator above softens every moved frame by an interpolation no camera makes, which alone cost
// ~0.8 dB of the gap measured before (docs/alignment.md). 10 frames here, blurred by the fast gather
// model (the lens-like scatter model takes ~30 s for these stacks; `npm run bench:quality` uses it); the
// 20-frame stack, which does not meet the target (docs/alignment.md says why), is measured there.
describe('a wobbling, breathing 10-frame stack against the same stack still', async () => {
  const base = { width: 320, height: 240, frames: 10, seed: 5, noise: 0.004, model: 'gather' as const };
  const still = makeIntegratedStack(base);
  const wobbling = makeIntegratedStack({ ...base, motion });
  // Near the edges some frames never saw what the still stack has in focus there: the field every frame saw.
  const margin = Math.ceil(viewOverhang(wobbling.transforms, base.width, base.height)) + 2;
  const score = (image: ArrayLike<number>, truth: ArrayLike<number>) =>
    psnrInside(image, truth, base.width, base.height, 3, margin, 255);
  const quiet = score((await stackAligned(still.frames, 'none')).result.image, still.truth.data);
  const aligned = score(
    (await stackAligned(wobbling.frames, 'similarity')).result.image,
    wobbling.truth.data,
  );

  it('is within 1 dB when aligned, in the field every frame saw', () => {
    process.stderr.write(`alignment PSNR: still ${quiet.toFixed(2)} dB, aligned ${aligned.toFixed(2)}\n`);
    expect(aligned).toBeGreaterThan(quiet - 1);
  });
});

describe('transform helpers', () => {
  it('composes similarities about the centre', () => {
    const a = { dx: 2, dy: -1, scale: 1.01, rotationDeg: 0.2, confidence: 1 };
    const b = { dx: -0.5, dy: 0.3, scale: 0.995, rotationDeg: -0.1, confidence: 0.8 };
    const ab = compose(a, b);
    // Apply a then b to a point, and ab once.
    const apply = (t: typeof a, x: number, y: number): [number, number] => {
      const r = (t.rotationDeg * Math.PI) / 180;
      return [
        t.scale * (Math.cos(r) * x - Math.sin(r) * y) + t.dx,
        t.scale * (Math.sin(r) * x + Math.cos(r) * y) + t.dy,
      ];
    };
    const [x1, y1] = apply(a, 30, -20);
    const [x2, y2] = apply(b, x1, y1);
    const [x3, y3] = apply(ab, 30, -20);
    expect(Math.abs(x2 - x3)).toBeLessThan(1e-9);
    expect(Math.abs(y2 - y3)).toBeLessThan(1e-9);
    expect(ab.confidence).toBe(0.8);
  });

  it('inverts a similarity: composed either way with its inverse it is the identity', () => {
    const t = { dx: 3.5, dy: -2, scale: 1.02, rotationDeg: 0.7, confidence: 0.9 };
    for (const id of [compose(t, invert(t)), compose(invert(t), t)]) {
      expect(id.dx).toBeCloseTo(0, 12);
      expect(id.dy).toBeCloseTo(0, 12);
      expect(id.scale).toBeCloseTo(1, 12);
      expect(id.rotationDeg).toBeCloseTo(0, 12);
    }
    expect(invert(t).confidence).toBe(0.9);
  });

  it('measures the largest pixel displacement at the corners', () => {
    expect(
      maxDisplacement({ dx: 0.03, dy: 0.04, scale: 1, rotationDeg: 0, confidence: 1 }, 100, 80),
    ).toBeCloseTo(0.05, 9);
    expect(
      maxDisplacement({ dx: 0, dy: 0, scale: 1.001, rotationDeg: 0, confidence: 1 }, 1001, 1),
    ).toBeCloseTo(0.5, 6);
  });
});

describe('a frame that jumps away from its neighbour', () => {
  // A knocked stage or a zoom change (here 4.5 % and 1.6°) between two frames: the estimate against
  // the reference does not depend on the neighbour, so the jump costs nothing.
  const still = { dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 };
  const transforms = [
    still,
    { ...still, dx: 1.2, dy: -0.8, scale: 1.001, rotationDeg: 0.05 },
    { ...still, dx: -9.5, dy: 6.3, scale: 1.045, rotationDeg: 1.6 },
    { ...still, dx: -9.1, dy: 6.6, scale: 1.046, rotationDeg: 1.62 },
  ];
  const stack = makeSyntheticStack({
    width: 384,
    height: 288,
    frames: 4,
    seed: 7,
    noise: 0.004,
    motion: transforms,
    marginPx: 40,
  });

  it('is estimated within 0.1 px and 0.05 % scale, as are the frames after it', () => {
    const aligner = new FrameAligner('similarity');
    aligner.setReference(stack.frames[0]);
    stack.frames.forEach((frame, i) => {
      const { report } = aligner.align(frame);
      const truth = stack.transforms[i];
      expect(report.trusted, `frame ${i}`).toBe(true);
      expect(report.source, `frame ${i}`).toBe('reference');
      expect(
        Math.hypot(report.transform.dx - truth.dx, report.transform.dy - truth.dy),
        `frame ${i}`,
      ).toBeLessThan(0.1);
      expect(Math.abs(report.transform.scale / truth.scale - 1), `frame ${i}`).toBeLessThan(5e-4);
      expect(Math.abs(report.transform.rotationDeg - truth.rotationDeg), `frame ${i}`).toBeLessThan(0.05);
    });
  });
});

describe('the reference frame itself', () => {
  const stack = makeSyntheticStack({ width: 160, height: 120, frames: 3, seed: 9, noise: 0.004, motion });

  it('is stacked as the identity without an estimate, and its neighbour is chained from it', () => {
    const aligner = new FrameAligner('similarity');
    aligner.setReference(stack.frames[1]);
    const { report, warp } = aligner.align(stack.frames[1]);
    expect(warp).toBeNull();
    expect(report).toMatchObject({ source: 'reference', trusted: true, resampled: false, gains: [1, 1, 1] });
    expect(report.transform).toMatchObject({ dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 });
    // A copy of the same pixels is another frame: it is estimated, and lands on the identity too.
    const copy = { ...stack.frames[1], data: stack.frames[1].data.slice() };
    const estimated = aligner.align(copy).report;
    expect(estimated.source).toBe('reference');
    expect(Math.hypot(estimated.transform.dx, estimated.transform.dy)).toBeLessThan(0.01);
  });
});

describe('--align auto, the default', () => {
  const still = { dx: 0, dy: 0, scale: 1, rotationDeg: 0, confidence: 1 };

  it('resamples a frame whose centre moves 0.05 px, or whose scale or rotation changes 0.01 %', () => {
    const rad = 180 / Math.PI;
    expect(needsResampling(still)).toBe(false);
    expect(needsResampling({ ...still, dx: 0.03, dy: 0.039 })).toBe(false);
    expect(needsResampling({ ...still, dx: 0.03, dy: 0.04 + 1e-9 })).toBe(true);
    expect(needsResampling({ ...still, scale: 1 + 0.99 * MIN_RESAMPLE_SCALE })).toBe(false);
    expect(needsResampling({ ...still, scale: 1 - 1.01 * MIN_RESAMPLE_SCALE })).toBe(true);
    expect(needsResampling({ ...still, rotationDeg: 0.99 * MIN_RESAMPLE_SCALE * rad })).toBe(false);
    expect(needsResampling({ ...still, rotationDeg: -1.01 * MIN_RESAMPLE_SCALE * rad })).toBe(true);
    expect(MIN_RESAMPLE_MOTION_PX).toBe(0.05);
  });

  // Frames of one scene, the second and third moved by known transforms; the fourth an exact copy.
  const transforms = [
    still,
    { ...still, dx: 0.6, dy: -0.3 },
    { ...still, scale: 1.003, rotationDeg: 0.1 },
    still,
  ];
  const stack = makeSyntheticStack({
    width: 320,
    height: 240,
    frames: 4,
    seed: 11,
    noise: 0.004,
    motion: transforms,
    marginPx: 20,
  });
  const frames = [...stack.frames.slice(0, 3), { ...stack.frames[0], data: stack.frames[0].data.slice() }];

  it('estimates every frame, resamples the ones that moved, and leaves a still one as it is', () => {
    const aligner = new FrameAligner('auto');
    expect(aligner.enabled).toBe(true);
    aligner.setReference(frames[0]);
    const results = frames.map((f) => aligner.align(f));
    expect(results.map((r) => r.report.resampled)).toEqual([false, true, true, false]);
    expect(results.map((r) => r.warp === null)).toEqual([true, false, false, true]);
    const moved = results[1].report.transform;
    expect(Math.hypot(moved.dx - 0.6, moved.dy + 0.3)).toBeLessThan(0.1);
    expect(Math.abs(results[2].report.transform.scale / 1.003 - 1)).toBeLessThan(5e-4);
    // The copy is estimated (not recognised as the reference) and lands on the identity.
    expect(results[3].report.source).toBe('reference');
    expect(needsResampling(results[3].report.transform)).toBe(false);
  });

  it('is off with none: no estimate, every frame as it is', () => {
    const aligner = new FrameAligner('none');
    expect(aligner.enabled).toBe(false);
    const { report, warp } = aligner.align(frames[1]);
    expect(warp).toBeNull();
    expect(report.source).toBe('identity');
  });
});
