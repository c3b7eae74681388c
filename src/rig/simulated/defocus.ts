// Camera model of the simulated microscope: renders a Scene as seen with the stage focused at a given height.
// Blur grows with each pixel's distance from the focal plane; levels of blur are cached and frames blend
// them (gather), or each frame blurs every pixel's share of its two levels (scatter, lens-like: scatter.ts).

import type { Frame } from '../../stack/types.js';
import {
  blurRows,
  coarseSigma,
  planeLoader,
  shrink,
  shrinkFactor,
  type Coarse,
  type RowLoader,
} from './box-blur.js';
import { GaussianStream, hashSeed } from './prng.js';
import { encodePlanes, scatterPlanes } from './scatter.js';
import { valueRange, type Scene } from './scene.js';

/** How linear light becomes output codes: the sRGB curve (like a camera's JPEG/ISP) or a plain scale. */
export type Transfer = 'srgb' | 'linear';

/**
 * How blur that varies across the image is made (see scatter.ts): `gather` blends cached levels per
 * pixel (fast, but moves features towards their blurrier side by a fraction of a pixel per focus step on
 * a tilted specimen); `scatter` spreads each point by its own blur, as a lens does (one blur per level
 * and channel per frame).
 */
export type BlurModel = 'gather' | 'scatter';

export interface DefocusOptions {
  /** Blur of a perfectly focused pixel, px (optics + sensor). Default 0.4. */
  sigma0?: number;
  /** Blur growth per µm of defocus, px/µm. Default: 8 / scene.depthRangeUm (full range → ~8 px). */
  blurPxPerUm?: number;
  /** Blur stops growing here (top of the level ladder), px. Default 16. */
  maxSigma?: number;
  bitDepth?: 8 | 16;
  /** 1 = grey: linear Rec.709 luminance, then encoded like a colour channel. Default 3. */
  channels?: 1 | 3;
  /** Gaussian noise std-dev as a fraction of full scale (0.01 = 1 %), added after encoding. Default 0. */
  noise?: number;
  /** Multiplies linear light before encoding (clipped at full scale): exposure / lamp drift. Default 1. */
  exposureGain?: number;
  /** Default 'srgb'. */
  transfer?: Transfer;
  /** Default 'gather'. */
  model?: BlurModel;
  /** Base of the per-frame noise seeds. Default scene.seed. */
  seed?: number;
  /**
   * Levels an earlier renderer of the same scene and options built (its levelArrays()), taken over
   * instead of blurred again; entries of the wrong length are ignored and built when needed.
   */
  levels?: readonly Uint16Array[];
}

export interface RenderFrameOptions {
  /** Noise seed for this frame. Default: derived from the base seed and focusUm (same focus, same noise). */
  seed?: number;
  noise?: number;
  exposureGain?: number;
  /** Reuse this buffer (right type and length) instead of allocating: 12 MP frames are 36–72 MB each. */
  out?: Uint8Array | Uint16Array;
}

export interface DefocusRenderer {
  readonly scene: Scene;
  /** Blur sigmas (px) of the cached levels a frame interpolates between; the first is sigma0. */
  readonly ladder: readonly number[];
  readonly channels: 1 | 3;
  readonly bitDepth: 8 | 16;
  /** Blur sigma (px) of a surface point at depthUm when focused at focusUm. */
  sigmaAt(depthUm: number, focusUm: number): number;
  /** Builds every level the given focus positions need, so later renders time only the per-frame work. */
  prepare(focusUm: readonly number[]): void;
  /** Sigmas of the levels built so far. */
  builtSigmas(): number[];
  /** Bytes held by the built levels. */
  levelBytes(): number;
  /** The level arrays, one per ladder step (empty where not built yet), to hand to a later renderer. */
  levelArrays(): readonly Uint16Array[];
  render(focusUm: number, frameOpts?: RenderFrameOptions): Frame;
}

const LADDER_STEPS = [0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];
/** Rec. 709 weights: grey frames are linear luminance, encoded like a colour channel. */
export const LUMA = [0.2126, 0.7152, 0.0722] as const;

/** Level sigmas: sigma0 itself (the sharpest any pixel gets), then the steps above it, capped at maxSigma. */
export function blurLadder(sigma0: number, maxSigma: number): number[] {
  const top = Math.max(maxSigma, sigma0 + 0.5);
  return [sigma0, ...LADDER_STEPS.filter((s) => s > sigma0 + 0.25 && s < top - 0.25), top];
}

const lutCache = new Map<string, Float32Array>();

/** 65536-entry table from linear 16-bit codes to output codes (unrounded, 0..255 or 0..65535). */
export function encoderLut(bitDepth: 8 | 16, transfer: Transfer): Float32Array {
  const key = `${bitDepth}:${transfer}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(65536);
    const max = bitDepth === 8 ? 255 : 65535;
    for (let i = 0; i < 65536; i++) {
      const v = i / 65535;
      const e = transfer === 'linear' ? v : v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
      lut[i] = e * max;
    }
    lutCache.set(key, lut);
  }
  return lut;
}

/** Linear 0..1 → 16-bit linear code, rounded and clipped: the quantiser levels and truth share. */
export const toCode = (v: number) => (v <= 0 ? 0 : v >= 1 ? 65535 : (v * 65535 + 0.5) | 0);

/** Rows of channel c of the scene texture, or of its linear luminance when c < 0. */
function rowLoader(scene: Scene, c: number): RowLoader {
  const { texture: t, width: w } = scene;
  return (y, row, offset) => {
    for (let x = 0, i = y * w * 3; x < w; x++, i += 3) {
      row[offset + x] = c >= 0 ? t[i + c] : LUMA[0] * t[i] + LUMA[1] * t[i + 1] + LUMA[2] * t[i + 2];
    }
  };
}

/** Bilinear upsampling of coarse planes (one per channel) into an interleaved Uint16 level (linear codes). */
function upsampleInto(level: Uint16Array, planes: Coarse[], w: number, h: number): void {
  const { w: cw, h: ch, f } = planes[0];
  const nc = planes.length;
  const at = (x: number, n: number): [number, number, number] => {
    const u = Math.min(Math.max((x - (f - 1) / 2) / f, 0), n - 1);
    const i = Math.floor(u);
    return [i, Math.min(i + 1, n - 1), u - i];
  };
  const [i0, fx] = [new Int32Array(w), new Float32Array(w)];
  for (let x = 0; x < w; x++) {
    const [i, , t] = at(x, cw);
    [i0[x], fx[x]] = [i * nc, t];
  }
  // One interleaved coarse row, padded by a copy of its last cell so the right neighbour always exists.
  const row = new Float32Array((cw + 1) * nc);
  for (let y = 0; y < h; y++) {
    const [j0, j1, fy] = at(y, ch);
    for (let c = 0; c < nc; c++) {
      const d = planes[c].data;
      for (let i = 0, a = j0 * cw, b = j1 * cw; i < cw; i++) {
        row[i * nc + c] = Math.min(Math.max(d[a + i] + (d[b + i] - d[a + i]) * fy, 0), 1) * 65535 + 0.5;
      }
      row[cw * nc + c] = row[(cw - 1) * nc + c];
    }
    // Rows hold clamped codes + 0.5, so their blend needs no clamping and the truncating store rounds.
    for (let x = 0, o = y * w * nc; x < w; x++) {
      const b = i0[x];
      const t = fx[x];
      for (let c = b; c < b + nc; c++) level[o++] = row[c] + (row[c + nc] - row[c]) * t;
    }
  }
}

const EMPTY = new Uint16Array(0);

/**
 * The per-frame hot loop, kept out of closures so V8 compiles it tight. Per pixel: its quantised depth picks
 * two levels and a blend weight from the frame's tables; then gain, encode, noise, clamp.
 */
function blendFrame(
  out: Uint8Array | Uint16Array,
  channels: number,
  levels: Uint16Array[],
  dq: Uint16Array,
  tIdx: Uint8Array,
  tWt: Float32Array,
  gain: number,
  lut: Float32Array,
  maxOut: number,
  stream: GaussianStream | null,
  noiseSigma: number,
  w: number,
): void {
  const noise = new Float32Array(w * channels);
  for (let p0 = 0; p0 < dq.length; p0 += w) {
    if (stream) stream.fill(noise, noiseSigma);
    for (let x = 0; x < w; x++) {
      const q = dq[p0 + x];
      const i = tIdx[q];
      const g1 = tWt[q] * gain;
      const g0 = gain - g1;
      const lo = levels[i];
      const hi = levels[i + 1];
      for (let c = 0, o = (p0 + x) * channels, z = x * channels; c < channels; c++, o++, z++) {
        const code = (lo[o] * g0 + hi[o] * g1 + 0.5) | 0;
        const v = lut[code > 65535 ? 65535 : code] + noise[z] + 0.5;
        out[o] = v < 0 ? 0 : v >= maxOut ? maxOut : v | 0;
      }
    }
  }
}

/**
 * Builds a renderer. Spatially varying blur is done by blending, per pixel, the two cached levels whose sigmas
 * bracket that pixel's sigma (weights chosen so the blend has the pixel's variance). Gathering from blurred
 * copies is not exact optics at depth steps, but it is monotonic in defocus and O(1) per pixel per frame.
 *
 * Memory trade-off: levels are built lazily (only those some frame needs) and stored as interleaved linear
 * Uint16 codes, not Float32. At 12 MP RGB a level is 72 MB instead of 144 MB, so the default 10-level ladder
 * tops out at ~720 MB (240 MB in grey, where only luminance is blurred). 16-bit linear quantisation is far
 * below an 8-bit output step, so one Uint16 path serves every size rather than a Float32 path for small ones.
 * The cost: noise-free 16-bit sRGB frames use only every few codes in dark tones (up to ~13 apart near
 * black); transfer 'linear' keeps full 16-bit resolution.
 */
export function createDefocusRenderer(scene: Scene, opts: DefocusOptions = {}): DefocusRenderer {
  const { width: w, height: h } = scene;
  const n = w * h;
  const sigma0 = opts.sigma0 ?? 0.4;
  const k = opts.blurPxPerUm ?? 8 / (scene.depthRangeUm || 1);
  const channels = opts.channels ?? 3;
  const bitDepth = opts.bitDepth ?? 8;
  const transfer = opts.transfer ?? 'srgb';
  const scatter = opts.model === 'scatter';
  const baseSeed = opts.seed ?? scene.seed;
  const ladder = blurLadder(sigma0, opts.maxSigma ?? 16);
  const top = ladder[ladder.length - 1];
  const levels: Uint16Array[] = ladder.map((_, i) => {
    const reused = opts.levels?.[i];
    return reused && reused.length === n * channels ? reused : EMPTY;
  });
  // Quantised sigma → level index, so the per-pixel search is one lookup plus at most one step.
  const Q = 32;
  const levelOf = new Uint8Array(Math.ceil(top * Q) + 2);
  for (let j = 0, i = 0; j < levelOf.length; j++) {
    while (i < ladder.length - 2 && ladder[i + 1] <= j / Q) i++;
    levelOf[j] = i;
  }
  const [dMin, dMax] = valueRange(scene.depthUm);

  // Depth quantised to 1/65535 of its range (0.003 µm over 200 µm): far finer than any blur difference.
  const dStep = (dMax - dMin) / 65535;
  const dq = new Uint16Array(n);
  for (let p = 0; p < n; p++) dq[p] = dStep > 0 ? Math.round((scene.depthUm[p] - dMin) / dStep) : 0;
  const tIdx = new Uint8Array(65536);
  const tWt = new Float32Array(65536);

  const sigmaAt = (depthUm: number, focusUm: number) =>
    Math.min(top, sigma0 + Math.abs(depthUm - focusUm) * k);
  const indexOf = (s: number) => {
    let i = levelOf[(s * Q) | 0];
    if (i < ladder.length - 2 && s >= ladder[i + 1]) i++;
    return i;
  };

  function buildLevels(wanted: number[]): void {
    const todo = wanted.filter((i) => levels[i] === EMPTY).sort((x, y) => x - y);
    if (todo.length === 0) return;
    const loads = Array.from({ length: channels }, (_, c) => rowLoader(scene, channels === 3 ? c : -1));
    // Per channel, the texture shrunk by 2, 4, 8, each from the previous: only the first reads full res.
    const shrunk = new Map<number, Coarse[]>();
    const shrunkBy = (f: number): Coarse[] => {
      let planes = shrunk.get(f);
      if (!planes) {
        planes =
          f === 2
            ? loads.map((load) => shrink(load, w, h, 2, 2))
            : shrunkBy(f / 2).map((s) => shrink(planeLoader(s.data, s.w), s.w, s.h, 2, f));
        shrunk.set(f, planes);
      }
      return planes;
    };
    // Full-res scratch lives only for this batch: 2 planes (2 × 48 MB at 12 MP) that would otherwise idle.
    let scratch: [Float32Array, Float32Array] | undefined;
    for (const i of todo) {
      const sigma = ladder[i];
      const f = shrinkFactor(sigma);
      const level = (levels[i] = new Uint16Array(n * channels));
      if (f === 1) {
        scratch ??= [new Float32Array(n), new Float32Array(n)];
        for (let c = 0; c < channels; c++) {
          const res = blurRows(loads[c], w, h, sigma, ...scratch);
          // Blurs of a texture within [0, 1] stay within it (up to rounding), and the Uint16 store
          // truncates, so the clamp in toCode is not needed on this 12 M-sample path.
          for (let p = 0, o = c; p < n; p++, o += channels) level[o] = res[p] * 65535 + 0.5;
        }
        continue;
      }
      const rest = coarseSigma(sigma, f);
      const blurred = shrunkBy(f).map((s) => {
        const [a, b] = [new Float32Array(s.data.length), new Float32Array(s.data.length)];
        return { ...s, data: blurRows(planeLoader(s.data, s.w), s.w, s.h, rest, a, b) };
      });
      upsampleInto(level, blurred, w, h);
    }
  }

  /** Level indices a frame focused at f can touch: both ends of every bracket in its sigma range. */
  function neededFor(f: number): number[] {
    const near = f < dMin ? dMin - f : f > dMax ? f - dMax : 0;
    const far = Math.max(Math.abs(f - dMin), Math.abs(f - dMax));
    const lo = indexOf(sigmaAt(f + near, f));
    const hi = Math.min(ladder.length - 1, indexOf(sigmaAt(f + far, f)) + 1);
    return Array.from({ length: hi - lo + 1 }, (_, j) => lo + j);
  }

  function render(focusUm: number, fo: RenderFrameOptions = {}): Frame {
    if (!scatter) buildLevels(neededFor(focusUm));
    const maxOut = bitDepth === 8 ? 255 : 65535;
    const len = n * channels;
    const out = fo.out ?? (bitDepth === 8 ? new Uint8Array(len) : new Uint16Array(len));
    if (out.length !== len || (bitDepth === 8) !== out instanceof Uint8Array) {
      throw new RangeError(`out buffer must be a ${bitDepth}-bit array of ${len} samples`);
    }
    // Sigma depends on depth alone, so one table over the quantised depths replaces per-pixel maths.
    for (let q = 0; q < 65536; q++) {
      const s = sigmaAt(Math.min(dMax, dMin + q * dStep), focusUm);
      const i = indexOf(s);
      tIdx[q] = i;
      tWt[q] = (s * s - ladder[i] ** 2) / (ladder[i + 1] ** 2 - ladder[i] ** 2);
    }
    const noiseSigma = (fo.noise ?? opts.noise ?? 0) * maxOut;
    const seed = fo.seed ?? hashSeed(baseSeed, 0x6e6f6973, focusUm);
    const gain = Math.max(0, fo.exposureGain ?? opts.exposureGain ?? 1);
    const stream = noiseSigma > 0 ? new GaussianStream(seed) : null;
    const lut = encoderLut(bitDepth, transfer);
    if (scatter) {
      const loads = Array.from({ length: channels }, (_, c) => rowLoader(scene, channels === 3 ? c : -1));
      const planes = scatterPlanes(loads, w, h, { dq, tIdx, tWt, ladder });
      encodePlanes(out, planes, gain, lut, maxOut, stream, noiseSigma, w);
    } else blendFrame(out, channels, levels, dq, tIdx, tWt, gain, lut, maxOut, stream, noiseSigma, w);
    return { width: w, height: h, channels, bitDepth, data: out };
  }

  return {
    scene,
    ladder,
    channels,
    bitDepth,
    sigmaAt,
    // Scattering blurs per frame: there are no levels to build ahead.
    prepare: (focus) => (scatter ? undefined : buildLevels([...new Set(focus.flatMap(neededFor))])),
    builtSigmas: () => ladder.filter((_, i) => levels[i] !== EMPTY),
    levelBytes: () => levels.reduce((sum, l) => sum + l.byteLength, 0),
    levelArrays: () => levels,
    render,
  };
}
