// The alignment part of `npm run bench:quality`: wobbling, breathing stacks from the pixel-integrating
// generator against the same stacks still (issue 3's target: aligned PSNR within 1 dB of still), with
// every frame's estimate compared with the truth. Both go through the default, `--align auto` (what
// `similarity` does too); the still stack also unaligned (`none`), which nothing can beat. PSNR over the whole frame and over the field every
// frame sees (near the edges some frames never saw the in-focus content).
import { wobbleTransforms } from '../src/rig/simulated/motion.js';
import { makeIntegratedStack } from '../src/rig/simulated/pixel-integration.js';
import { decodeFile } from '../src/stack/io.js';
import { benchFrames } from './frames.js';
import { viewOverhang } from '../src/rig/simulated/motion.js';
import { psnrInside } from '../src/rig/simulated/score.js';
import { FrameAligner, type AlignMode } from '../src/stack/align/aligner.js';
import { Stacker } from '../src/stack/stacker.js';
import type { FrameTransform } from '../src/stack/align/transform.js';
import type { Frame, MergeMethod } from '../src/stack/types.js';

/** The wobble of the quality stacks (stage shift, focus breathing, a little rotation). */
export const MOTION = { shiftPx: 2, scalePerFrame: 0.002, rotationDeg: 0.3 };
/** The quality stacks' size, seed and noise; `frames` is set per comparison. */
export const QUALITY_STACK = { width: 384, height: 288, seed: 5, noise: 0.004 };
const round = (v: number) => Math.round(v * 1000) / 1000;
const round2 = (v: number) => Math.round(v * 100) / 100;

/** PSNR against `truth` over the whole frame and over the field every frame saw (`margin` px in). */
export function scoreAgainst(truth: Frame, margin: number) {
  const { width, height } = truth;
  return (image: ArrayLike<number>) => ({
    psnr: round2(psnrInside(image, truth.data, width, height, 3, 0, 255)),
    psnrCommonField: round2(psnrInside(image, truth.data, width, height, 3, margin, 255)),
  });
}

/**
 * Stacks `frames` aligned by `mode` to frame `reference`, or warped by the given transforms (the truth)
 * instead of estimates.
 */
export async function stackFrames(
  frames: Frame[],
  mode: AlignMode,
  method: MergeMethod,
  given?: FrameTransform[],
  reference = 0,
) {
  const aligner = new FrameAligner(mode);
  aligner.setReference(frames[reference]);
  const stacker = new Stacker({ aligned: true, method });
  const transforms = [];
  for (let i = 0; i < frames.length; i++) {
    const { report, warp } = aligner.align(frames[i]);
    transforms.push(report);
    await stacker.add(frames[i], given ? { transform: given[i], gains: [1, 1, 1] } : warp);
  }
  return { image: (await stacker.finish()).image, transforms };
}

export async function alignmentQuality(log: (line: string) => void) {
  const rows = [];
  for (const frames of [10, 20]) {
    const base = { ...QUALITY_STACK, frames };
    const still = makeIntegratedStack(base);
    const wobbling = makeIntegratedStack({ ...base, motion: MOTION });
    const margin = Math.ceil(viewOverhang(wobbling.transforms, base.width, base.height)) + 2;
    const score = (image: ArrayLike<number>, truth: Frame) => scoreAgainst(truth, margin)(image);
    for (const method of ['depthmap', 'pyramid'] as const) {
      const aligned = await stackFrames(wobbling.frames, 'auto', method);
      const errors = aligned.transforms.map((r, i) => {
        const truth = wobbling.transforms[i];
        return {
          shiftPx: Math.hypot(r.transform.dx - truth.dx, r.transform.dy - truth.dy),
          scale: Math.abs(r.transform.scale / truth.scale - 1),
          source: r.source,
        };
      });
      const row = {
        frames,
        method,
        motion: MOTION,
        still: score((await stackFrames(still.frames, 'none', method)).image, still.truth),
        // The still stack by default: what following the motion the images show, where there is none, costs.
        stillAligned: score((await stackFrames(still.frames, 'auto', method)).image, still.truth),
        aligned: score(aligned.image, wobbling.truth),
        withTrueTransforms: score(
          (await stackFrames(wobbling.frames, 'none', method, wobbling.transforms)).image,
          wobbling.truth,
        ),
        unaligned: score((await stackFrames(wobbling.frames, 'none', method)).image, wobbling.truth),
        estimate: {
          maxShiftErrorPx: round(Math.max(...errors.map((e) => e.shiftPx))),
          maxScaleErrorPercent: round(100 * Math.max(...errors.map((e) => e.scale))),
          framesWithin01Px: errors.filter((e) => e.shiftPx <= 0.1).length,
          chained: errors.filter((e) => e.source === 'chained').length,
        },
        commonFieldMarginPx: margin,
      };
      log(JSON.stringify(row));
      rows.push(row);
    }
  }
  return rows;
}

// The 12 MP wobbling stack `npm run bench` times (the same cache): the same stage motion as the 384×288
// stacks, but a blur that changes ~20 px across 4000 px instead of across 384, so the slide of a tilted
// specimen (docs/alignment.md) is ten times smaller per pixel.
const TWELVE_MP = {
  width: 4000,
  height: 3000,
  frames: 20,
  seed: 1,
  motion: { shiftPx: 2, scalePerFrame: 0.001, rotationDeg: 0.1 },
};

/** Each 12 MP frame's estimate (similarity, reference the first frame) against its true transform. */
export async function twelveMegapixelAccuracy(log: (line: string) => void) {
  const files = await benchFrames(TWELVE_MP, log);
  const truth = wobbleTransforms(TWELVE_MP.frames, { seed: TWELVE_MP.seed, ...TWELVE_MP.motion });
  const aligner = new FrameAligner('similarity');
  const errors = [];
  for (let i = 0; i < files.length; i++) {
    const frame = await decodeFile(files[i]);
    if (i === 0) aligner.setReference(frame);
    const { transform, source } = aligner.align(frame).report;
    errors.push({
      frame: i,
      shiftPx: round(Math.hypot(transform.dx - truth[i].dx, transform.dy - truth[i].dy)),
      scalePercent: round(100 * Math.abs(transform.scale / truth[i].scale - 1)),
      rotationDeg: round(Math.abs(transform.rotationDeg - truth[i].rotationDeg)),
      source,
    });
  }
  const row = {
    stack: TWELVE_MP,
    maxShiftErrorPx: Math.max(...errors.map((e) => e.shiftPx)),
    maxScaleErrorPercent: Math.max(...errors.map((e) => e.scalePercent)),
    maxRotationErrorDeg: Math.max(...errors.map((e) => e.rotationDeg)),
    frames: errors,
  };
  log(JSON.stringify({ ...row, frames: undefined }));
  return row;
}
