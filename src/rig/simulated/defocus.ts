// Camera model of the simulated microscope: renders a Scene as seen with the stage focused at a given height.
// Blur grows with each pixel's distance from the focal plane; levels of blur are cached, frames blend them.

import type { Frame } from '../../stack/types.js';
import { GaussianStream, hashSeed } from './prng.js';
import type { Scene } from './scene.js';

/** How linear light becomes output codes: the sRGB curve (like a camera's JPEG/ISP) or a plain scale. */
export type Transfer = 'srgb' | 'linear';

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
  /** Base of the per-frame noise seeds. Default scene.seed. */
  seed?: number;
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
  render(focusUm: number, frameOpts?: RenderFrameOptions): Frame;
}

const LADDER_STEPS = [0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];
const LUMA = [0.2126, 0.7152, 0.0722] as const;

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

/** Encodes a linear RGB texture exactly as the renderer encodes a frame (minus blur and noise). */
export function encodeTexture(
  texture: Float32Array,
  width: number,
  height: number,
  bitDepth: 8 | 16,
  channels: 1 | 3,
  transfer: Transfer = 'srgb',
): Frame {
  const lut = encoderLut(bitDepth, transfer);
  const n = width * height;
  const data = bitDepth === 8 ? new Uint8Array(n * channels) : new Uint16Array(n * channels);
  const code = (v: number) => Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 65535);
  for (let p = 0; p < n; p++) {
    const t = p * 3;
    if (channels === 1) {
      data[p] = Math.round(
        lut[code(LUMA[0] * texture[t] + LUMA[1] * texture[t + 1] + LUMA[2] * texture[t + 2])],
      );
    } else {
      for (let c = 0; c < 3; c++) data[t + c] = Math.round(lut[code(texture[t + c])]);
    }
  }
  return { width, height, channels, bitDepth, data };
}

/**
 * Approximate gaussian blur, O(1) per pixel at any sigma: three successive box filters per axis with running
 * sums and replicated edges. The boxes are "extended" (fractional end taps, Gwosdek et al. 2011) so the
 * variance matches sigma² exactly, even for sub-pixel sigmas that integer boxes cannot reach.
 * Blurs `plane` (w×h) using `tmp` as scratch; returns whichever of the two holds the result.
 */
export function blurPlane(
  plane: Float32Array,
  tmp: Float32Array,
  w: number,
  h: number,
  sigma: number,
): Float32Array {
  if (!(sigma > 0)) return plane;
  const v = (sigma * sigma) / 3;
  const r = Math.floor((Math.sqrt(1 + 12 * v) - 1) / 2);
  const alpha = ((2 * r + 1) * (v - (r * (r + 1)) / 3)) / (2 * ((r + 1) ** 2 - v));
  const norm = 1 / (2 * r + 1 + 2 * alpha);
  const pad = r + 1;
  let p = new Float64Array(w + 2 * pad);
  let q = new Float64Array(w + 2 * pad);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) p[pad + x] = plane[o + x];
    for (let pass = 0; pass < 3; pass++) {
      p.fill(p[pad], 0, pad);
      p.fill(p[pad + w - 1], pad + w);
      let s = 0;
      for (let k = -r; k <= r; k++) s += p[pad + k];
      for (let c = pad; c < pad + w; c++) {
        q[c] = (s + alpha * (p[c - r - 1] + p[c + r + 1])) * norm;
        s += p[c + r + 1] - p[c - r];
      }
      [p, q] = [q, p];
    }
    for (let x = 0; x < w; x++) plane[o + x] = p[pad + x];
  }
  // Vertical passes slide whole rows, so memory is walked in order instead of striding down columns.
  const acc = new Float64Array(w);
  const row = (y: number) => (y < 0 ? 0 : y >= h ? h - 1 : y) * w;
  let src = plane;
  let dst = tmp;
  for (let pass = 0; pass < 3; pass++) {
    acc.fill(0);
    for (let k = -r; k <= r; k++) {
      const o = row(k);
      for (let x = 0; x < w; x++) acc[x] += src[o + x];
    }
    for (let y = 0; y < h; y++) {
      const out = y * w;
      const far = row(y - r - 1);
      const next = row(y + r + 1);
      const leave = row(y - r);
      for (let x = 0; x < w; x++) {
        const a = src[next + x];
        dst[out + x] = (acc[x] + alpha * (src[far + x] + a)) * norm;
        acc[x] += a - src[leave + x];
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

const EMPTY = new Uint16Array(0);

/**
 * Builds a renderer. Spatially varying blur is done by blending, per pixel, the two cached levels whose sigmas
 * bracket that pixel's sigma (weights chosen so the blend has the pixel's variance). Gathering from blurred
 * copies is not exact optics at depth steps, but it is monotonic in defocus and O(1) per pixel per frame.
 *
 * Memory trade-off: levels are built lazily (only those some frame needs) and stored as interleaved linear
 * Uint16 codes, not Float32. At 12 MP RGB a level is 72 MB instead of 144 MB, so the default 10-level ladder
 * tops out at ~720 MB (240 MB in grey, where only luminance is blurred). 16-bit linear quantisation is
 * far below an 8-bit output step, so one Uint16 path serves every size rather than a Float32 path for small ones.
 */
export function createDefocusRenderer(scene: Scene, opts: DefocusOptions = {}): DefocusRenderer {
  const { width: w, height: h } = scene;
  const n = w * h;
  const sigma0 = opts.sigma0 ?? 0.4;
  const k = opts.blurPxPerUm ?? 8 / (scene.depthRangeUm || 1);
  const channels = opts.channels ?? 3;
  const bitDepth = opts.bitDepth ?? 8;
  const transfer = opts.transfer ?? 'srgb';
  const baseSeed = opts.seed ?? scene.seed;
  const ladder = blurLadder(sigma0, opts.maxSigma ?? 16);
  const top = ladder[ladder.length - 1];
  const levels: Uint16Array[] = ladder.map(() => EMPTY);
  const var0 = ladder.map((s) => s * s);
  const invDVar = ladder.map((s, i) => (i + 1 < ladder.length ? 1 / (ladder[i + 1] ** 2 - s * s) : 0));
  // Quantised sigma → level index, so the per-pixel search is one lookup plus at most one step.
  const Q = 32;
  const levelOf = new Uint8Array(Math.ceil(top * Q) + 2);
  for (let j = 0, i = 0; j < levelOf.length; j++) {
    while (i < ladder.length - 2 && ladder[i + 1] <= j / Q) i++;
    levelOf[j] = i;
  }
  let dMin = Infinity;
  let dMax = -Infinity;
  for (let p = 0; p < n; p++) {
    const d = scene.depthUm[p];
    if (d < dMin) dMin = d;
    if (d > dMax) dMax = d;
  }

  const sigmaAt = (depthUm: number, focusUm: number) =>
    Math.min(top, sigma0 + Math.abs(depthUm - focusUm) * k);
  const indexOf = (s: number) => {
    let i = levelOf[(s * Q) | 0];
    if (i < ladder.length - 2 && s >= ladder[i + 1]) i++;
    return i;
  };

  function buildLevels(wanted: number[]): void {
    const todo = wanted.filter((i) => levels[i] === EMPTY);
    if (todo.length === 0) return;
    // Scratch planes live only for this batch: 2 × 48 MB at 12 MP that would otherwise sit idle.
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    const tex = scene.texture;
    for (const i of todo) {
      const level = new Uint16Array(n * channels);
      for (let c = 0; c < channels; c++) {
        for (let p = 0; p < n; p++) {
          const t = p * 3;
          a[p] = channels === 3 ? tex[t + c] : LUMA[0] * tex[t] + LUMA[1] * tex[t + 1] + LUMA[2] * tex[t + 2];
        }
        const res = blurPlane(a, b, w, h, ladder[i]);
        for (let p = 0; p < n; p++) {
          const v = res[p];
          level[p * channels + c] = v <= 0 ? 0 : v >= 1 ? 65535 : (v * 65535 + 0.5) | 0;
        }
      }
      levels[i] = level;
    }
  }

  /** Level indices a frame focused at f can touch: both ends of every bracket in its sigma range. */
  function neededFor(f: number): number[] {
    const near = f < dMin ? dMin - f : f > dMax ? f - dMax : 0;
    const far = Math.max(Math.abs(f - dMin), Math.abs(f - dMax));
    const lo = indexOf(sigmaAt(f + near, f));
    const hi = Math.min(ladder.length - 1, indexOf(sigmaAt(f + far, f)) + 1);
    const out: number[] = [];
    for (let i = lo; i <= hi; i++) out.push(i);
    return out;
  }

  function render(focusUm: number, fo: RenderFrameOptions = {}): Frame {
    buildLevels(neededFor(focusUm));
    const maxOut = bitDepth === 8 ? 255 : 65535;
    const len = n * channels;
    const out = fo.out ?? (bitDepth === 8 ? new Uint8Array(len) : new Uint16Array(len));
    if (out.length !== len || (bitDepth === 8) !== out instanceof Uint8Array) {
      throw new RangeError(`out buffer must be a ${bitDepth}-bit array of ${len} samples`);
    }
    const lut = encoderLut(bitDepth, transfer);
    const gain = fo.exposureGain ?? opts.exposureGain ?? 1;
    const noiseSigma = (fo.noise ?? opts.noise ?? 0) * maxOut;
    const stream =
      noiseSigma > 0 ? new GaussianStream(fo.seed ?? hashSeed(baseSeed, 0x6e6f6973, focusUm)) : null;
    const noise = new Float32Array(w * channels);
    const depth = scene.depthUm;
    const last = ladder.length - 2;
    for (let y = 0; y < h; y++) {
      if (stream) stream.fill(noise, noiseSigma);
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        let s = sigma0 + Math.abs(depth[p] - focusUm) * k;
        if (s > top) s = top;
        let i = levelOf[(s * Q) | 0];
        if (i < last && s >= ladder[i + 1]) i++;
        const wt = (s * s - var0[i]) * invDVar[i];
        const lo = levels[i];
        const hi = levels[i + 1];
        const base = p * channels;
        for (let c = 0; c < channels; c++) {
          const a = lo[base + c];
          let code = ((a + (hi[base + c] - a) * wt) * gain + 0.5) | 0;
          if (code > 65535) code = 65535;
          else if (code < 0) code = 0;
          const v = lut[code] + noise[x * channels + c] + 0.5;
          out[base + c] = v < 0 ? 0 : v >= maxOut ? maxOut : v | 0;
        }
      }
    }
    return { width: w, height: h, channels, bitDepth, data: out };
  }

  return {
    scene,
    ladder,
    channels,
    bitDepth,
    sigmaAt,
    prepare: (focus) => buildLevels([...new Set(focus.flatMap(neededFor))]),
    builtSigmas: () => ladder.filter((_, i) => levels[i] !== EMPTY),
    levelBytes: () => levels.reduce((sum, l) => sum + l.byteLength, 0),
    render,
  };
}
