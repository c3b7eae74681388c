// Spatially varying defocus as a lens makes it: every scene point spreads its light by the blur of its
// own depth (scatter), rather than every pixel reading a copy of the scene blurred by its depth (gather).
//
// Why both exist: gathering is O(1) per pixel from cached blur levels, but wherever the blur varies
// across a feature, the pixels on its blurrier side read a wider kernel, which moves the feature towards
// that side (the spread's first moment grows with the blur's slope). On a tilted specimen every focus
// step then moved the content ~0.05 px along the tilt: motion no camera records, which an aligner
// measures, and chains. Scattering keeps each point's spread centred on the point. The price: every
// frame blurs each touched level once per channel, where gathering blends levels it built once.
import {
  blurRows,
  coarseSigma,
  planeLoader,
  shrink,
  shrinkFactor,
  type Coarse,
  type RowLoader,
} from './box-blur.js';
import type { GaussianStream } from './prng.js';

/** Per-pixel blur, as the two ladder levels that bracket it: level tIdx[q] weighs 1 − tWt[q], the next tWt[q]. */
export interface LevelSplit {
  /** Quantised depth of each pixel. */
  dq: Uint16Array;
  tIdx: Uint8Array;
  tWt: Float32Array;
  ladder: readonly number[];
}

/**
 * Linear light of one frame, one Float32Array per channel: each pixel's light is split between the two
 * levels that bracket its sigma (the weights keep its variance, as the gather model's blend does), each
 * level's share is blurred with that level's sigma, and the shares add up.
 */
export function scatterPlanes(
  loads: readonly RowLoader[],
  w: number,
  h: number,
  split: LevelSplit,
): Float32Array[] {
  const n = w * h;
  const { dq, tIdx, tWt, ladder } = split;
  const touched = new Set<number>();
  for (let p = 0; p < n; p++) {
    const q = dq[p];
    touched.add(tIdx[q]);
    if (tWt[q] > 0) touched.add(tIdx[q] + 1);
  }
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  return loads.map((load) => {
    const sum = new Float32Array(n);
    // Blurred shares of the same shrink factor add up at coarse resolution: one upsampling per factor.
    const coarseSums = new Map<number, Coarse>();
    for (const level of touched) {
      const share: RowLoader = (y, row, offset) => {
        load(y, row, offset);
        for (let x = 0, p = y * w; x < w; x++, p++) {
          const q = dq[p];
          const i = tIdx[q];
          row[offset + x] *= i === level ? 1 - tWt[q] : i + 1 === level ? tWt[q] : 0;
        }
      };
      const sigma = ladder[level];
      // Wide blurs on a shrunk share (cost / f²), as the gather model builds its wide levels.
      const f = shrinkFactor(sigma);
      if (f === 1) {
        const blurred = blurRows(share, w, h, sigma, a, b);
        for (let p = 0; p < n; p++) sum[p] += blurred[p];
        continue;
      }
      const coarse = shrink(share, w, h, f, f);
      const scratch = new Float32Array(coarse.data.length);
      const blurred = blurRows(
        planeLoader(coarse.data, coarse.w),
        coarse.w,
        coarse.h,
        coarseSigma(sigma, f),
        coarse.data,
        scratch,
      );
      const total = coarseSums.get(f);
      if (total) for (let p = 0; p < blurred.length; p++) total.data[p] += blurred[p];
      // Both buffers blurRows may return are this level's own: the first of a factor keeps its result.
      else coarseSums.set(f, { ...coarse, data: blurred });
    }
    for (const coarse of coarseSums.values()) addUpsampled(sum, coarse, w, h);
    return sum;
  });
}

/** Adds a coarse plane, bilinearly upsampled to w×h (edge cells repeated), into `sum`. */
function addUpsampled(sum: Float32Array, coarse: Coarse, w: number, h: number): void {
  const { data, w: cw, h: ch, f } = coarse;
  const position = (x: number, count: number) => Math.min(Math.max((x - (f - 1) / 2) / f, 0), count - 1);
  const i0 = new Int32Array(w);
  const i1 = new Int32Array(w);
  const fx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const u = position(x, cw);
    i0[x] = Math.floor(u);
    i1[x] = Math.min(i0[x] + 1, cw - 1);
    fx[x] = u - i0[x];
  }
  const row = new Float32Array(cw);
  for (let y = 0; y < h; y++) {
    const v = position(y, ch);
    const j0 = Math.floor(v) * cw;
    const j1 = Math.min(Math.floor(v) + 1, ch - 1) * cw;
    const fy = v - Math.floor(v);
    for (let i = 0; i < cw; i++) row[i] = data[j0 + i] + (data[j1 + i] - data[j0 + i]) * fy;
    for (let x = 0, o = y * w; x < w; x++, o++) sum[o] += row[i0[x]] + (row[i1[x]] - row[i0[x]]) * fx[x];
  }
}

/**
 * Gain, transfer curve, noise and clamping of linear planes into an interleaved frame: the same steps, in
 * the same order and drawing noise the same way, as the gather model's blend, so both models' frames at
 * one seed differ only by their blur.
 */
export function encodePlanes(
  out: Uint8Array | Uint16Array,
  planes: readonly Float32Array[],
  gain: number,
  lut: Float32Array,
  maxOut: number,
  stream: GaussianStream | null,
  noiseSigma: number,
  w: number,
): void {
  const channels = planes.length;
  const noise = new Float32Array(w * channels);
  const n = planes[0].length;
  for (let p0 = 0; p0 < n; p0 += w) {
    if (stream) stream.fill(noise, noiseSigma);
    for (let x = 0; x < w; x++) {
      for (let c = 0, o = (p0 + x) * channels, z = x * channels; c < channels; c++, o++, z++) {
        const v = planes[c][p0 + x] * gain;
        const code = v <= 0 ? 0 : v >= 1 ? 65535 : (v * 65535 + 0.5) | 0;
        const e = lut[code] + noise[z] + 0.5;
        out[o] = e < 0 ? 0 : e >= maxOut ? maxOut : e | 0;
      }
    }
  }
}
