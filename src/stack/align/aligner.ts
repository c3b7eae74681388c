// Aligns each frame of a stack to the reference frame: estimates its similarity transform on a
// downscaled luminance image, checks the estimate, and decides whether the frame needs resampling.
//
//   frame ─► luminance, box-downscaled to fit size×size ─► estimate against the reference
//                                       │ untrusted? ─► estimate against the previous frame, chained
//                                       │ still untrusted? ─► the last good transform, reported
//   ─► transform in full-resolution pixels, per-channel gains ─► resample only if it moves the
//      centre 0.05 px or more, changes scale or rotation 0.01 % or more, or the brightness differs
import type { Frame } from '../types.js';
import { createSimilarityEstimator, type SimilaritySeed } from './log-polar.js';
import { createPhaseCorrelator } from './phase-correlation.js';
import type { WarpSpec } from './resample.js';
import { exposureGains } from './exposure.js';
import { canvasGeometry, FrameDownscaler, type CanvasGeometry, type SmallFrame } from './downscale.js';
import { compose, IDENTITY, linearPart, pointMapper, type FrameTransform } from './transform.js';

/**
 * `auto` (the default) estimates every frame's similarity transform and resamples only the frames
 * that move: 0.05 px or more at the centre, or 0.01 % or more of scale or rotation (the arc at a
 * radius, as a fraction of it), or whose brightness differs. A still stack keeps its frames as they
 * are; a wobbling one is aligned. `similarity` is the same; `translation` estimates shifts only; `none`
 * stacks the frames as they are without estimating anything (~0.1 s of CPU less per 12 MP frame: the
 * downscale, ~15 ms on the caller's thread, and the estimate on the alignment thread).
 */
export type AlignMode = 'auto' | 'none' | 'translation' | 'similarity';
export const ALIGN_MODES: readonly AlignMode[] = ['auto', 'none', 'translation', 'similarity'];

/** Side of the square the estimates work on: the whole field, binned. */
export const DEFAULT_ALIGN_SIZE = 512;
/** Estimates below this confidence are not trusted. */
export const MIN_CONFIDENCE = 0.35;
/** Frames are resampled only if they move the centre by at least this much (px) … */
export const MIN_RESAMPLE_MOTION_PX = 0.05;
/**
 * … or change scale, or rotate (radians), by at least this much: 0.01 %. Far below the blur of a
 * focus step, and above the estimate's own scatter on a still stack (≤ 0.004 % and 0.001° at 12 MP),
 * so a still stack is not resampled for its estimates' noise.
 */
export const MIN_RESAMPLE_SCALE = 1e-4;
/**
 * … or whose brightness differs from the reference's by more than this (relative). Differently
 * focused frames of a steady light measure within ~0.2 % of each other (exposure.ts, synthetic scenes).
 */
export const GAIN_TOLERANCE = 0.01;

export interface AlignmentReport {
  transform: FrameTransform;
  gains: number[];
  /** reference: estimated directly; chained: through the previous frame; last-good: estimate rejected. */
  source: 'reference' | 'chained' | 'last-good' | 'identity';
  trusted: boolean;
  resampled: boolean;
}

/** What an estimate finds for one frame: the report, and the warp to apply (null: none needed). */
export interface AlignmentResult {
  report: AlignmentReport;
  warp: WarpSpec | null;
}

/** Stacked as it is: what every frame gets when the stack is not aligned (a new object each time). */
export function unaligned(): AlignmentResult {
  return {
    report: { transform: { ...IDENTITY }, gains: [], source: 'identity', trusted: true, resampled: false },
    warp: null,
  };
}

/**
 * The estimates, from small frames only (downscale.ts): against the reference, through the previous
 * frame when that fails, the last good transform when both do. Keeps the state that spans frames, so
 * frames must come in stack order. Runs on the caller's thread (FrameAligner) or on a worker of its
 * own (BackgroundAligner), which the small frames make cheap to reach.
 */
export class AlignmentEstimator {
  private readonly similarity: ReturnType<typeof createSimilarityEstimator> | null;
  private readonly translation: ReturnType<typeof createPhaseCorrelator> | null;
  private reference: SmallFrame | null = null;
  private geometry: CanvasGeometry | null = null;
  private previous: { small: SmallFrame; transform: FrameTransform; trusted: boolean } | null = null;
  private lastGood: FrameTransform = IDENTITY;

  constructor(mode: Exclude<AlignMode, 'none'>, size = DEFAULT_ALIGN_SIZE) {
    this.similarity = mode === 'translation' ? null : createSimilarityEstimator(size);
    this.translation = mode === 'translation' ? createPhaseCorrelator(size) : null;
  }

  setReference(small: SmallFrame, geometry: CanvasGeometry): void {
    this.reference = small;
    this.geometry = geometry;
    this.previous = null;
    this.lastGood = IDENTITY;
  }

  /** The reference frame itself, come to be stacked: the identity, and the neighbour of the next frame. */
  alignReference(channels: number): AlignmentResult {
    if (!this.reference) return unaligned();
    // Estimating the reference against itself cost ~0.15 s at 12 MP to find the identity.
    this.previous = { small: this.reference, transform: IDENTITY, trusted: true };
    const gains = Array.from({ length: channels }, () => 1);
    return {
      report: { transform: IDENTITY, gains, source: 'reference', trusted: true, resampled: false },
      warp: null,
    };
  }

  align(small: SmallFrame): AlignmentResult {
    if (!this.reference) return unaligned();
    const previous = this.previous;
    // Against the reference, the whole estimate: its log-polar stage's confidence is what tells a
    // frame too different from the reference to match (far from it in focus). Seeded from a
    // neighbour, only the shift's confidence is left, and that stays high on such frames (measured:
    // 1.00 where the log-polar stage gave 0.00–0.70), which trusted worse estimates than the chain.
    let transform = this.estimate(this.reference, small);
    let source: AlignmentReport['source'] = 'reference';
    // Chaining from a frame whose own transform was not trusted would carry its error forward.
    if (transform.confidence < MIN_CONFIDENCE && previous?.trusted) {
      // Frames far apart in focus can look too different to match; neighbours still do. Neighbours
      // differ by a step's breathing and tilt, so the estimate starts from no scale or rotation
      // (log-polar.ts: SimilaritySeed), and only a failed seeded one is made again from scratch.
      let step = this.estimate(previous.small, small, IDENTITY);
      if (step.confidence < MIN_CONFIDENCE) step = this.estimate(previous.small, small);
      if (step.confidence >= MIN_CONFIDENCE) {
        transform = { ...compose(previous.transform, step), confidence: step.confidence };
        source = 'chained';
      }
    }
    const trusted = transform.confidence >= MIN_CONFIDENCE;
    if (trusted) this.lastGood = transform;
    else {
      transform = { ...this.lastGood, confidence: transform.confidence };
      source = 'last-good';
    }
    this.previous = { small, transform, trusted };
    const gains = exposureGains(this.reference.blocks, small.blocks);
    const moves = needsResampling(transform);
    const brightness = gains.some((g) => Math.abs(g - 1) > GAIN_TOLERANCE);
    const resample = moves || brightness;
    const appliedGains = brightness ? gains : gains.map(() => 1);
    return {
      report: { transform, gains: appliedGains, source, trusted, resampled: resample },
      warp: resample ? { transform, gains: appliedGains } : null,
    };
  }

  private estimate(reference: SmallFrame, moving: SmallFrame, seed?: SimilaritySeed): FrameTransform {
    let small: FrameTransform;
    if (this.translation) {
      const c = this.translation.correlate(
        this.translation.prepare(reference.lum),
        this.translation.prepare(moving.lum),
      );
      small = { dx: c.dx, dy: c.dy, scale: 1, rotationDeg: 0, confidence: c.confidence };
    } else {
      const { refined, ...estimate } = this.similarity!.estimate(reference.lum, moving.lum, seed);
      // An estimate whose refinement diverged is the coarse log-polar one: on real frames far apart
      // in focus it is often wrong with a middling confidence, so it is never trusted.
      small = refined
        ? estimate
        : { ...estimate, confidence: Math.min(estimate.confidence, MIN_CONFIDENCE / 2) };
    }
    const { ex, ey, factor } = centres(this.geometry!);
    const { m00, m01, m10, m11 } = linearPart(small);
    return {
      dx: factor * small.dx + (m00 - 1) * ex + m01 * ey,
      dy: factor * small.dy + m10 * ex + (m11 - 1) * ey,
      scale: small.scale,
      rotationDeg: small.rotationDeg,
      confidence: small.confidence,
    };
  }
}

/**
 * Small-image coordinates u = x/f + k; the estimate's centre is the canvas centre, the transform's the
 * frame centre: d = f·d_small + (sR − I)(c_frame − a), a = f(c_canvas − k), e = c_frame − a.
 */
function centres(geometry: CanvasGeometry): { ex: number; ey: number; factor: number } {
  const { factor, width, height, ox, oy, size } = geometry;
  const cs = (size - 1) / 2;
  const ax = factor * (cs - (0.5 / factor - 0.5 + ox));
  const ay = factor * (cs - (0.5 / factor - 0.5 + oy));
  return { ex: (width - 1) / 2 - ax, ey: (height - 1) / 2 - ay, factor };
}

/** Aligns frames on the caller's thread: tests, benches and the timelapse's one frame per run. */
export class FrameAligner {
  private readonly mode: AlignMode;
  private readonly size: number;
  private readonly estimator: AlignmentEstimator | null;
  // Only an aligning stack downscales frames: an unaligned one never loads the module here.
  private readonly downscaler: FrameDownscaler | null;
  private geometry: CanvasGeometry | null = null;
  /** The reference frame itself, not kept alive: when it comes to be stacked it needs no estimate. */
  private referenceFrame: WeakRef<Frame> | null = null;

  constructor(mode: AlignMode, size = DEFAULT_ALIGN_SIZE) {
    this.mode = mode;
    this.size = size;
    this.estimator = mode === 'none' ? null : new AlignmentEstimator(mode, size);
    this.downscaler = mode === 'none' ? null : new FrameDownscaler();
  }

  get enabled(): boolean {
    return this.mode !== 'none';
  }

  setReference(frame: Frame): void {
    if (!this.estimator || !this.downscaler) return;
    this.geometry = canvasGeometry(frame.width, frame.height, this.size);
    this.estimator.setReference(this.downscaler.downscale(frame, this.geometry), this.geometry);
    this.referenceFrame = new WeakRef(frame);
  }

  /** The transform of `frame` relative to the reference, and the warp to apply (null: none needed). */
  align(frame: Frame): AlignmentResult {
    if (!this.estimator || !this.downscaler || !this.geometry) return unaligned();
    if (this.referenceFrame?.deref() === frame) return this.estimator.alignReference(frame.channels);
    return this.estimator.align(this.downscaler.downscale(frame, this.geometry));
  }
}

/**
 * Whether a frame moved enough to be resampled: its centre by 0.05 px or more, or its scale or
 * rotation by 0.01 % or more. A tolerance on scale rather than on the corners' displacement: at 12 MP
 * 0.01 % is 0.25 px at a corner, and a rule on the corners resampled 18 of a still stack's 19 frames
 * for estimates of 0.001°.
 */
export function needsResampling(t: FrameTransform): boolean {
  return (
    Math.hypot(t.dx, t.dy) >= MIN_RESAMPLE_MOTION_PX ||
    Math.abs(t.scale - 1) >= MIN_RESAMPLE_SCALE ||
    Math.abs((t.rotationDeg * Math.PI) / 180) >= MIN_RESAMPLE_SCALE
  );
}

/** The largest distance any pixel of a width×height frame moves under t. */
export function maxDisplacement(t: FrameTransform, width: number, height: number): number {
  const map = pointMapper(t, width, height);
  let max = 0;
  for (const [x, y] of [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ]) {
    const [xs, ys] = map(x, y);
    max = Math.max(max, Math.hypot(xs - x, ys - y));
  }
  return max;
}
