// The alignment worker: the same estimates as on the caller's thread, made elsewhere, and a dead or
// closed worker reported rather than waited on.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeSyntheticStack } from '../../../src/rig/simulated/stack.js';
import { AlignmentEstimator, FrameAligner } from '../../../src/stack/align/aligner.js';
import { BackgroundAligner } from '../../../src/stack/align/background-aligner.js';
import { FrameStacker } from '../../../src/stack/frame-stacker.js';
import type { Frame } from '../../../src/stack/types.js';

const motion = { shiftPx: 2, scalePerFrame: 0.002, rotationDeg: 0.3 };
const stack = makeSyntheticStack({ width: 320, height: 240, frames: 6, seed: 11, noise: 0.004, motion });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('BackgroundAligner', () => {
  it('finds what FrameAligner finds, frame by frame, without estimating on the calling thread', async () => {
    const inThread = new FrameAligner('similarity');
    inThread.setReference(stack.frames[2]);
    const expected = stack.frames.map((f, i) => (i === 2 ? null : inThread.align(f)));

    // From here on, an estimate on this thread would be counted.
    const spy = vi.spyOn(AlignmentEstimator.prototype, 'align');
    const background = new BackgroundAligner('similarity');
    try {
      background.setReference(stack.frames[2]);
      for (let i = 0; i < stack.frames.length; i++) {
        const result = i === 2 ? await background.alignReference(3) : await background.align(stack.frames[i]);
        if (i === 2) {
          expect(result.report.source).toBe('reference');
          expect(result.report.transform).toMatchObject({ dx: 0, dy: 0, scale: 1, rotationDeg: 0 });
        } else {
          const { costMs, ...estimate } = result;
          expect(estimate).toEqual(expected[i]);
          // What it cost (the downscale here, the estimate there), not how long it waited.
          expect(costMs).toBeGreaterThan(0);
          // The stack moves: each frame but the reference is estimated, found and resampled.
          expect(result.report.trusted).toBe(true);
          expect(result.warp).not.toBeNull();
        }
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      await background.close();
    }
  });

  it('starts no thread and estimates nothing when alignment is off', async () => {
    const off = new BackgroundAligner('none');
    expect(off.enabled).toBe(false);
    off.setReference(stack.frames[0]);
    const { report, warp } = await off.align(stack.frames[3]);
    expect(report.source).toBe('identity');
    expect(warp).toBeNull();
    await off.close();
  });

  it('rejects an estimate under way when it is closed, and any asked for after', async () => {
    const aligner = new BackgroundAligner('similarity');
    aligner.setReference(stack.frames[0]);
    const pending = expect(aligner.align(stack.frames[1])).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await aligner.close();
    await pending;
    await expect(aligner.align(stack.frames[2])).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });

  it('reports a worker that dies instead of waiting on it', async () => {
    const aligner = new BackgroundAligner('similarity');
    aligner.setReference(stack.frames[0]);
    await aligner.align(stack.frames[1]);
    // What a crash looks like from here: the thread is gone.
    await (aligner as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(aligner.align(stack.frames[2])).rejects.toThrow(/alignment worker exited unexpectedly/);
    await aligner.close();
  });
});

describe('FrameStacker and its reference', () => {
  it('knows the reference by where it came from: decoded again, it is not estimated', async () => {
    const stacker = new FrameStacker({ align: 'similarity', threads: 1 });
    try {
      stacker.setReference(stack.frames[0], 'frame_1.png');
      // The same file decoded again is another object; this one even holds another frame's pixels,
      // which an estimate would find moved.
      const again: Frame = { ...stack.frames[3], data: stack.frames[3].data.slice() };
      const reference = await stacker.add(again, 'frame_1.png');
      expect(reference.source).toBe('reference');
      expect(reference.transform).toMatchObject({ dx: 0, dy: 0, scale: 1, rotationDeg: 0 });
      expect(reference.resampled).toBe(false);
      const other = await stacker.add(stack.frames[3], 'frame_4.png');
      expect(other.source).toBe('reference');
      expect(Math.hypot(other.transform.dx, other.transform.dy)).toBeGreaterThan(1);
      const result = await stacker.finish();
      expect(result.alignment.map((a) => a.resampled)).toEqual([false, true]);
      await expect(stacker.add(stack.frames[4], 'frame_5.png')).rejects.toMatchObject({
        code: 'STACKER_STATE',
        message: 'add() after finish()',
      });
    } finally {
      await stacker.close();
    }
  });
});
