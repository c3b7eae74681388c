// Synthetic focus stacks for tests and the benchmark: a scene, evenly spaced focus positions, rendered frames,
// and the ground truth (sharp image, per-pixel true frame index) to score a stacker against.

import type { Frame } from '../../stack/types.js';
import {
  createDefocusRenderer,
  encoderLut,
  LUMA,
  toCode,
  type DefocusRenderer,
  type Transfer,
} from './defocus.js';
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
  /** Use this scene instead of making one (its size wins over width/height; keep it for the truth). */
  scene?: Scene;
}

export interface SyntheticStack {
  scene: Scene;
  /** Focus of frame i: i × stepUm, so the frames span [0, depthRangeUm] evenly. */
  focusUm: number[];
  stepUm: number;
  frames: Frame[];
}

export interface SyntheticFrame {
  index: number;
  focusUm: number;
  frame: Frame;
}

/** Frame i focused at i × step; a single frame sits mid-range. */
export function stackFocusPositions(frames: number, depthRangeUm: number): number[] {
  if (!(Number.isInteger(frames) && frames >= 1))
    throw new RangeError(`frames must be an integer ≥ 1, got ${frames}`);
  if (frames === 1) return [depthRangeUm / 2];
  const step = depthRangeUm / (frames - 1);
  return Array.from({ length: frames }, (_, i) => i * step);
}

function setUp(opts: SyntheticStackOptions): {
  scene: Scene;
  focusUm: number[];
  stepUm: number;
  renderer: DefocusRenderer;
} {
  const scene =
    opts.scene ??
    makeScene({
      width: opts.width,
      height: opts.height,
      seed: opts.seed,
      depthRangeUm: opts.depthRangeUm,
      flatFraction: opts.flatFraction,
    });
  const focusUm = stackFocusPositions(opts.frames, scene.depthRangeUm);
  const stepUm = focusUm.length > 1 ? focusUm[1] - focusUm[0] : scene.depthRangeUm || 1;
  const renderer = createDefocusRenderer(scene, {
    sigma0: opts.sigma0,
    blurPxPerUm: opts.blurPxPerUm ?? 1 / stepUm,
    maxSigma: opts.maxSigma,
    bitDepth: opts.bitDepth,
    channels: opts.channels,
    noise: opts.noise,
    exposureGain: opts.exposureGain,
    transfer: opts.transfer,
    seed: opts.seed,
  });
  return { scene, focusUm, stepUm, renderer };
}

/** Renders the whole stack into memory: for small sizes (20 × 12 MP RGB 8-bit would be 720 MB of frames). */
export function makeSyntheticStack(opts: SyntheticStackOptions): SyntheticStack {
  const { scene, focusUm, stepUm, renderer } = setUp(opts);
  return { scene, focusUm, stepUm, frames: focusUm.map((f) => renderer.render(f)) };
}

/**
 * Yields the frames one at a time, so only one (plus the renderer's blur levels) is alive at once. A plain
 * generator: works with for…of and for await…of. With reuseBuffer every frame shares one data buffer,
 * so each must be consumed before asking for the next.
 */
export function* renderSyntheticFrames(
  opts: SyntheticStackOptions & { reuseBuffer?: boolean },
): Generator<SyntheticFrame, void, undefined> {
  const { focusUm, renderer } = setUp(opts);
  let buffer: Uint8Array | Uint16Array | undefined;
  for (let index = 0; index < focusUm.length; index++) {
    const frame = renderer.render(focusUm[index], { out: opts.reuseBuffer ? buffer : undefined });
    buffer = frame.data;
    yield { index, focusUm: focusUm[index], frame };
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
