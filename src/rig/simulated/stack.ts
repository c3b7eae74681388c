// Synthetic focus stacks for tests and the benchmark: a scene, evenly spaced focus positions, rendered frames,
// and the ground truth (sharp image, per-pixel true frame index) to score a stacker against.

import { IDENTITY, type FrameTransform } from '../../stack/align/transform.js';
import type { Frame } from '../../stack/types.js';
import { createDefocusRenderer, encoderLut, LUMA, toCode, type BlurModel, type Transfer } from './defocus.js';
import { viewOverhang, warpFrame, wobbleTransforms, type WobbleOptions } from './motion.js';
import { gaussian, hashSeed, mulberry32 } from './prng.js';
import { makeScene, type Scene } from './scene.js';

export interface SyntheticStackOptions {
  width: number;
  height: number;
  frames: number;
  seed?: number;
  depthRangeUm?: number;
  flatFraction?: number;
  /** Default 1 / stepUm: each frame step of defocus adds 1 px of blur sigma. */
  blurPxPerUm?: number;
  /** Gaussian noise std-dev as a fraction of full scale. Default 0. */
  noise?: number;
  bitDepth?: 8 | 16;
  channels?: 1 | 3;
  sigma0?: number;
  maxSigma?: number;
  exposureGain?: number;
  transfer?: Transfer;
  /** How blur varying across the frame is rendered (defocus.ts). Default 'gather'. */
  model?: BlurModel;
  /** Use this scene instead of making one (its size wins over width/height; keep it for the truth). */
  scene?: Scene;
  /**
   * Frame-to-frame motion: wobbleTransforms(frames, { seed, ...motion }) with the stack's seed, or one
   * transform per frame (reference → frame pixel coordinates about the centre; see motion.ts). Frames are
   * rendered from a scene larger by a margin on every side and warped, so their edges show real scene
   * (with a given `scene` there is no margin: the warp repeats its edge pixels instead). Noise is added
   * after the warp.
   */
  motion?: Omit<WobbleOptions, 'seed'> | readonly FrameTransform[];
  /**
   * Scene rendered beyond each edge, px (at least what the motion needs). Blur near a frame's edge then
   * spreads real scene into it, as in a camera, instead of repeating the edge pixels, whose spread moves
   * with the blur (each focus step shifts edge content: false motion for an aligner). Default 0.
   */
  marginPx?: number;
  /**
   * The specimen's surface height (µm) at frame pixel (x, y), replacing the scene's hills and plateau
   * (coordinates from the frame's top-left; the margin's are negative or beyond the size). For
   * experiments on one shape, e.g. a tilted plane. Values are used as given, not normalised.
   */
  surface?: (x: number, y: number) => number;
  /** Exposure drift: frame i's gain is frame (i − 1)'s times exp(N(0, exposureDrift²)). Default 0. */
  exposureDrift?: number;
}

export interface SyntheticStack {
  scene: Scene;
  /** Focus of frame i: i × stepUm, so the frames span [0, depthRangeUm] evenly. */
  focusUm: number[];
  stepUm: number;
  frames: Frame[];
  /** True transform of each frame (identity without motion; frame 0 always). */
  transforms: FrameTransform[];
  /** Exposure gain each frame was rendered with (on linear light, before the transfer curve). */
  gains: number[];
  /**
   * Scene pixels rendered beyond each edge for the motion: frames are cut from makeScene at
   * (width + 2·marginPx) × (height + 2·marginPx) and `scene` is its centre. 0 without motion or a
   * requested margin.
   */
  marginPx: number;
}

export interface SyntheticFrame {
  index: number;
  focusUm: number;
  frame: Frame;
  transform: FrameTransform;
  gain: number;
}

/** Frame i focused at i × step; a single frame sits mid-range. */
export function stackFocusPositions(frames: number, depthRangeUm: number): number[] {
  if (!(Number.isInteger(frames) && frames >= 1))
    throw new RangeError(`frames must be an integer ≥ 1, got ${frames}`);
  if (frames === 1) return [depthRangeUm / 2];
  const step = depthRangeUm / (frames - 1);
  return Array.from({ length: frames }, (_, i) => i * step);
}

interface Plan {
  /** The truth: the scene as the reference frame (0) sees it. */
  scene: Scene;
  focusUm: number[];
  stepUm: number;
  transforms: FrameTransform[];
  gains: number[];
  marginPx: number;
  /** Renders frame i, into `out` when given. */
  render(index: number, out?: Uint8Array | Uint16Array): Frame;
}

const GAIN_STREAM = 0x6761696e;
/** Noise-seed stream of the renderer (defocus.ts), reused so moved frames get the same per-focus seeds. */
const NOISE_STREAM = 0x6e6f6973;

function motionOf(opts: SyntheticStackOptions, seed: number): FrameTransform[] | undefined {
  const { motion, frames } = opts;
  if (motion === undefined) return undefined;
  if (!Array.isArray(motion)) return wobbleTransforms(frames, { ...motion, seed });
  if (motion.length !== frames)
    throw new RangeError(`motion has ${motion.length} transforms for ${frames} frames`);
  return motion.map((t: FrameTransform) => ({ ...t }));
}

function gainsOf(opts: SyntheticStackOptions, seed: number): number[] {
  const base = Math.max(0, opts.exposureGain ?? 1);
  const drift = opts.exposureDrift ?? 0;
  const rng = mulberry32(hashSeed(seed, GAIN_STREAM));
  const gains = [base];
  // Log-normal steps: a multiplicative random walk that can never reach zero or go negative.
  for (let i = 1; i < opts.frames; i++)
    gains.push(gains[i - 1] * (drift > 0 ? Math.exp(drift * gaussian(rng)) : 1));
  return gains;
}

/** The w×h window of a scene starting at (m, m). */
function cropScene(s: Scene, m: number, w: number, h: number): Scene {
  const texture = new Float32Array(w * h * 3);
  const depthUm = new Float32Array(w * h);
  const flatMask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (y + m) * s.width + m;
    texture.set(s.texture.subarray(src * 3, (src + w) * 3), y * w * 3);
    depthUm.set(s.depthUm.subarray(src, src + w), y * w);
    flatMask.set(s.flatMask.subarray(src, src + w), y * w);
  }
  return { width: w, height: h, seed: s.seed, depthRangeUm: s.depthRangeUm, texture, depthUm, flatMask };
}

function setUp(opts: SyntheticStackOptions): Plan {
  const seed = opts.seed ?? opts.scene?.seed ?? 1;
  const moves = motionOf(opts, seed);
  const [w, h] = opts.scene ? [opts.scene.width, opts.scene.height] : [opts.width, opts.height];
  // Bicubic taps reach 2 px past the sample point. The margin is a multiple of 8, the renderer's largest
  // shrink factor, so its coarse blur cells line up with the crop: frame 0 then matches a render of
  // `scene` itself away from the edges (up to rounding). A given scene cannot grow: its edges are clamped.
  const wanted = Math.max(moves ? Math.ceil(viewOverhang(moves, w, h)) + 2 : 0, opts.marginPx ?? 0);
  const marginPx = wanted > 0 && !opts.scene ? Math.ceil(wanted / 8) * 8 : 0;
  // A rendered margin is cut away by the warp (the identity for a still stack).
  const warps = moves !== undefined || marginPx > 0;
  const rendered =
    opts.scene ??
    makeScene({
      width: w + 2 * marginPx,
      height: h + 2 * marginPx,
      seed: opts.seed,
      depthRangeUm: opts.depthRangeUm,
      flatFraction: opts.flatFraction,
    });
  if (opts.surface) {
    const { width: rw, height: rh, depthUm } = rendered;
    for (let y = 0; y < rh; y++)
      for (let x = 0; x < rw; x++) depthUm[y * rw + x] = opts.surface(x - marginPx, y - marginPx);
  }
  const scene = marginPx ? cropScene(rendered, marginPx, w, h) : rendered;
  const focusUm = stackFocusPositions(opts.frames, scene.depthRangeUm);
  const stepUm = focusUm.length > 1 ? focusUm[1] - focusUm[0] : scene.depthRangeUm || 1;
  const renderer = createDefocusRenderer(rendered, {
    sigma0: opts.sigma0,
    blurPxPerUm: opts.blurPxPerUm ?? 1 / stepUm,
    maxSigma: opts.maxSigma,
    bitDepth: opts.bitDepth,
    channels: opts.channels,
    // With motion the sensor noise is added after the warp, as a camera adds it after the optics.
    noise: warps ? 0 : opts.noise,
    exposureGain: opts.exposureGain,
    transfer: opts.transfer,
    model: opts.model,
    seed: opts.seed,
  });
  const gains = gainsOf(opts, seed);
  const drift = (opts.exposureDrift ?? 0) > 0;
  const transforms = moves ?? focusUm.map(() => ({ ...IDENTITY }));
  let scratch: Uint8Array | Uint16Array | undefined;

  function render(i: number, out?: Uint8Array | Uint16Array): Frame {
    const exposureGain = drift ? gains[i] : undefined;
    if (!warps) return renderer.render(focusUm[i], { exposureGain, out });
    const still = renderer.render(focusUm[i], { exposureGain, out: scratch });
    scratch = still.data;
    const { channels, bitDepth } = still;
    const len = w * h * channels;
    const data = out ?? (bitDepth === 8 ? new Uint8Array(len) : new Uint16Array(len));
    return warpFrame(
      still,
      transforms[i],
      { width: w, height: h, channels, bitDepth, data },
      {
        noise: opts.noise,
        seed: hashSeed(opts.seed ?? rendered.seed, NOISE_STREAM, focusUm[i]),
      },
    );
  }
  return { scene, focusUm, stepUm, transforms, gains, marginPx, render };
}

/** Renders the whole stack into memory: for small sizes (20 × 12 MP RGB 8-bit would be 720 MB of frames). */
export function makeSyntheticStack(opts: SyntheticStackOptions): SyntheticStack {
  const { render, ...plan } = setUp(opts);
  return { ...plan, frames: plan.focusUm.map((_, i) => render(i)) };
}

/**
 * Yields the frames one at a time, so only one (plus the renderer's blur levels) is alive at once. A plain
 * generator: works with for…of and for await…of. With reuseBuffer every frame shares one data buffer,
 * so each must be consumed before asking for the next.
 */
export function* renderSyntheticFrames(
  opts: SyntheticStackOptions & { reuseBuffer?: boolean },
): Generator<SyntheticFrame, void, undefined> {
  const { focusUm, transforms, gains, render } = setUp(opts);
  let buffer: Uint8Array | Uint16Array | undefined;
  for (let index = 0; index < focusUm.length; index++) {
    const frame = render(index, opts.reuseBuffer ? buffer : undefined);
    buffer = frame.data;
    yield { index, focusUm: focusUm[index], frame, transform: transforms[index], gain: gains[index] };
  }
}

/** The all-in-focus texture encoded exactly like the frames (same transfer, no blur, no noise). */
export function truthImage(
  scene: Scene,
  bitDepth: 8 | 16 = 8,
  channels: 1 | 3 = 3,
  transfer: Transfer = 'srgb',
): Frame {
  const lut = encoderLut(bitDepth, transfer);
  const { width, height, texture: t } = scene;
  const n = width * height;
  const data = bitDepth === 8 ? new Uint8Array(n * channels) : new Uint16Array(n * channels);
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    if (channels === 3) {
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(lut[toCode(t[i + c])]);
    } else {
      // fround: the renderer blurs float32 planes, so grey must round luminance the same way to match.
      data[p] = Math.round(
        lut[toCode(Math.fround(LUMA[0] * t[i] + LUMA[1] * t[i + 1] + LUMA[2] * t[i + 2]))],
      );
    }
  }
  return { width, height, channels, bitDepth, data };
}

/**
 * Per pixel, the fractional frame index where the surface is in focus: (depthUm − focusUm[0]) / step.
 * All 0 for a single frame, which has no step.
 */
export function truthDepthFrames(scene: Scene, focusUm: readonly number[]): Float32Array {
  const f0 = focusUm[0] ?? 0;
  const step = focusUm.length > 1 ? focusUm[1] - focusUm[0] : 0;
  const out = new Float32Array(scene.width * scene.height);
  if (step === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = (scene.depthUm[i] - f0) / step;
  return out;
}
