// Synthetic stacks as a camera takes them: each frame rendered at k× the resolution, moved there, and
// averaged over k×k subpixels in linear light (the sensor integrates light over a pixel), then noised.
//
// Why: makeSyntheticStack moves a frame by resampling it (bicubic), which softens every moved frame the
// way no camera does; an aligned stack of such frames then pays for two interpolations against a still
// stack's none (~0.8 dB of the 1.6 dB measured). Here the only interpolation left at camera resolution is
// the aligner's own, so a still-versus-wobbling comparison measures alignment, not the generator.
import type { FrameTransform } from '../../stack/align/transform.js';
import type { Frame } from '../../stack/types.js';
import { wobbleTransforms, type WobbleOptions } from './motion.js';
import { gaussian, hashSeed, mulberry32 } from './prng.js';
import { makeSyntheticStack, stackFocusPositions, truthImage, type SyntheticStackOptions } from './stack.js';

export interface IntegratedStackOptions extends Omit<
  SyntheticStackOptions,
  'motion' | 'scene' | 'bitDepth' | 'channels'
> {
  /** Subpixels per pixel along each axis. Default 2. */
  factor?: number;
  /** Surface height (µm) at camera pixel (x, y), as SyntheticStackOptions.surface (fractional inside a pixel). */
  surface?: (x: number, y: number) => number;
  /** Camera-resolution motion: wobble options or one transform per frame (as makeSyntheticStack's); none: still. */
  motion?: Omit<WobbleOptions, 'seed'> | readonly FrameTransform[];
}

export interface IntegratedStack {
  frames: Frame[];
  /** The all-in-focus truth, integrated over pixels like the frames. */
  truth: Frame;
  /** Each frame's true transform at camera resolution (reference → frame, about the centre). */
  transforms: FrameTransform[];
  focusUm: number[];
}

const NOISE_STREAM = 0x70786e73;

/** 8-bit sRGB RGB stacks only: the camera's format, and what the alignment targets are set for. */
export function makeIntegratedStack(opts: IntegratedStackOptions): IntegratedStack {
  const k = opts.factor ?? 2;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`factor must be a whole number ≥ 1, got ${k}`);
  const seed = opts.seed ?? 1;
  const motion = opts.motion;
  const transforms = Array.isArray(motion)
    ? motion.map((t: FrameTransform) => ({ ...t }))
    : motion
      ? wobbleTransforms(opts.frames, { ...(motion as Omit<WobbleOptions, 'seed'>), seed })
      : Array.from({ length: opts.frames }, () => ({
          dx: 0,
          dy: 0,
          scale: 1,
          rotationDeg: 0,
          confidence: 1,
        }));
  const focusUm = stackFocusPositions(opts.frames, opts.depthRangeUm ?? 100);
  const stepUm = focusUm.length > 1 ? focusUm[1] - focusUm[0] : 1;
  // About the centre, camera pixel x covers subpixels k·x … k·x + k − 1, so the centres map as
  // c_fine = k·c + (k − 1)/2 and a shift of d camera pixels is k·d subpixels; scale and rotation stay.
  const fine = makeSyntheticStack({
    ...opts,
    width: opts.width * k,
    height: opts.height * k,
    sigma0: (opts.sigma0 ?? 0.4) * k,
    blurPxPerUm: (opts.blurPxPerUm ?? 1 / stepUm) * k,
    maxSigma: (opts.maxSigma ?? 16) * k,
    // Real scene within 3σ of the widest blur beyond every edge, as a sensor sees it.
    marginPx: Math.max(opts.marginPx ?? 0, 3 * (opts.maxSigma ?? 16)) * k,
    noise: 0,
    // Gathered blur moves content along a tilted specimen by a fraction of a pixel per focus step: motion
    // the aligner would measure and chain, but that no camera records and the transforms do not hold.
    model: opts.model ?? 'scatter',
    motion: transforms.map((t) => ({ ...t, dx: t.dx * k, dy: t.dy * k })),
    surface: opts.surface && ((x, y) => opts.surface!((x - (k - 1) / 2) / k, (y - (k - 1) / 2) / k)),
  });
  const noise = opts.noise ?? 0;
  const frames = fine.frames.map((frame, i) => {
    const integrated = integrate(frame, k);
    if (noise > 0) addNoise(integrated.data, noise, hashSeed(seed, NOISE_STREAM, i));
    return integrated;
  });
  return { frames, truth: integrate(truthImage(fine.scene), k), transforms, focusUm };
}

/** Averages k×k blocks of an 8-bit sRGB frame in linear light. */
export function integrate(frame: Frame, k: number): Frame {
  const width = Math.floor(frame.width / k);
  const height = Math.floor(frame.height / k);
  const ch = frame.channels;
  const data = new Uint8Array(width * height * ch);
  const sums = new Float64Array(width * ch);
  const n = k * k;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let j = 0; j < k; j++) {
      const row = (y * k + j) * frame.width * ch;
      for (let x = 0; x < width; x++)
        for (let i = 0; i < k; i++)
          for (let c = 0; c < ch; c++) sums[x * ch + c] += TO_LINEAR[frame.data[row + (x * k + i) * ch + c]];
    }
    for (let q = 0; q < width * ch; q++) data[y * width * ch + q] = toSrgb8(sums[q] / n);
  }
  return { width, height, channels: ch, bitDepth: 8, data };
}

const TO_LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const s = v / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
});

function toSrgb8(linear: number): number {
  const s = linear <= 0.0031308 ? 12.92 * linear : 1.055 * linear ** (1 / 2.4) - 0.055;
  return Math.max(0, Math.min(255, Math.round(s * 255)));
}

/** Sensor noise at camera resolution: Gaussian, `sigma` a fraction of full scale. */
function addNoise(data: Uint8Array | Uint16Array, sigma: number, seed: number): void {
  const rng = mulberry32(seed);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i] + 255 * sigma * gaussian(rng));
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
