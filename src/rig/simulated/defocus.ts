// Camera model of the simulated microscope: renders a Scene as seen with the stage focused at a given height.
// Blur grows with each pixel's distance from the focal plane; levels of blur are cached, frames blend them.

import type { Frame } from '../../stack/types.js';
import { GaussianStream, hashSeed } from './prng.js';
import { valueRange, type Scene } from './scene.js';

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

/** Fills row[offset .. offset + w) with image row y of some plane; lets blurs read the texture in place. */
type RowLoader = (y: number, row: Float64Array, offset: number) => void;

/** Rows of channel c of the scene texture, or of its linear luminance when c < 0. */
function rowLoader(scene: Scene, c: number): RowLoader {
  const { texture: t, width: w } = scene;
  return (y, row, offset) => {
    for (let x = 0, i = y * w * 3; x < w; x++, i += 3) {
      row[offset + x] = c >= 0 ? t[i + c] : LUMA[0] * t[i] + LUMA[1] * t[i + 1] + LUMA[2] * t[i + 2];
    }
  };
}

function planeLoader(plane: Float32Array, w: number): RowLoader {
  return (y, row, offset) => {
    for (let x = 0, i = y * w; x < w; x++, i++) row[offset + x] = plane[i];
  };
}

/** Extended box of variance v (Gwosdek et al. 2011): integer radius r plus fractional end taps alpha. */
function boxFor(v: number): { r: number; alpha: number; norm: number } {
  const r = Math.floor((Math.sqrt(1 + 12 * v) - 1) / 2);
  const alpha = ((2 * r + 1) * (v - (r * (r + 1)) / 3)) / (2 * ((r + 1) ** 2 - v));
  return { r, alpha, norm: 1 / (2 * r + 1 + 2 * alpha) };
}

/**
 * Approximate gaussian blur, O(1) per pixel at any sigma: three successive box filters per axis (one below
 * 0.8 px, where a 3-tap kernel already fits) with running sums and replicated edges. The boxes have
 * fractional end taps so the variance is exactly sigma², even for sub-pixel sigmas integer boxes miss.
 * Reads the w×h source through `load`, works in `a` and `b`, returns whichever holds the result.
 */
function blurRows(load: RowLoader, w: number, h: number, sigma: number, a: Float32Array, b: Float32Array) {
  const passes = sigma <= 0 ? 0 : sigma <= 0.8 ? 1 : 3;
  const { r, alpha, norm } = boxFor(passes ? (sigma * sigma) / passes : 0);
  const pad = r + 1;
  let [p, q] = [new Float64Array(w + 2 * pad), new Float64Array(w + 2 * pad)];
  for (let y = 0; y < h; y++) {
    load(y, p, pad);
    for (let pass = 0; pass < passes; pass++) {
      p.fill(p[pad], 0, pad);
      p.fill(p[pad + w - 1], pad + w);
      let s = 0;
      for (let k = -r; k <= r; k++) s += p[pad + k];
      for (let c = pad; c < pad + w; c++) {
        const next = p[c + r + 1];
        q[c] = (s + alpha * (p[c - r - 1] + next)) * norm;
        s += next - p[c - r];
      }
      [p, q] = [q, p];
    }
    for (let x = 0, o = y * w; x < w; x++) a[o + x] = p[pad + x];
  }
  // Vertical passes slide whole rows, so memory is walked in order instead of striding down columns.
  const acc = new Float64Array(w);
  const row = (y: number) => (y < 0 ? 0 : y >= h ? h - 1 : y) * w;
  let [src, dst] = [a, b];
  for (let pass = 0; pass < passes; pass++) {
    acc.fill(0);
    for (let k = -r; k <= r; k++) {
      for (let x = 0, o = row(k); x < w; x++) acc[x] += src[o + x];
    }
    for (let y = 0; y < h; y++) {
      const [out, far, next, leave] = [y * w, row(y - r - 1), row(y + r + 1), row(y - r)];
      for (let x = 0; x < w; x++) {
        const v = src[next + x];
        dst[out + x] = (acc[x] + alpha * (src[far + x] + v)) * norm;
        acc[x] += v - src[leave + x];
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** Gaussian-blurred copy of a w×h plane (see blurRows for the method); the input is left untouched. */
export function blurPlane(plane: Float32Array, w: number, h: number, sigma: number): Float32Array {
  return blurRows(planeLoader(plane, w), w, h, sigma, new Float32Array(w * h), new Float32Array(w * h));
}

interface Coarse {
  data: Float32Array;
  w: number;
  h: number;
  /** Shrink factor: cell j is centred on full-res f·j + (f − 1)/2. */
  f: number;
}

/** Means of k×k cells (partial at the right and bottom edges) of a w×h source, as a plane k times smaller. */
function shrink(load: RowLoader, w: number, h: number, k: number, f: number): Coarse {
  const [cw, ch] = [Math.ceil(w / k), Math.ceil(h / k)];
  const data = new Float32Array(cw * ch);
  const row = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    load(y, row, 0);
    for (let x = 0, o = ((y / k) | 0) * cw; x < w; x++) data[o + ((x / k) | 0)] += row[x];
  }
  for (let j = 0; j < ch; j++) {
    for (let i = 0; i < cw; i++) data[j * cw + i] /= Math.min(k, w - i * k) * Math.min(k, h - j * k);
  }
  return { data, w: cw, h: ch, f };
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

/**
 * Blurs of 3 px and up are computed on the texture shrunk by f (cost / f²) and interpolated back: shrinking
 * by f×f cells adds variance (f² − 1)/12 and bilinear interpolation about f²/6, both taken off the coarse
 * blur. Coarse blurs stay ≥ 1.4 coarse px, smooth enough that interpolation artefacts stay around 1 % (at
 * 2 px they reached 3 %: too much false fine detail that near focus, so 2 px stays full-res). The
 * coarse levels replicate edge cells rather than edge pixels, which differs within ~2σ of the border.
 */
function shrinkFactor(sigma: number): number {
  return sigma < 3 ? 1 : sigma < 6 ? 2 : sigma < 12 ? 4 : 8;
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
      const rest = Math.sqrt(Math.max(0, sigma * sigma - (f * f - 1) / 12 - (f * f) / 6)) / f;
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
    buildLevels(neededFor(focusUm));
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
    blendFrame(out, channels, levels, dq, tIdx, tWt, gain, lut, maxOut, stream, noiseSigma, w);
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
    levelArrays: () => levels,
    render,
  };
}
