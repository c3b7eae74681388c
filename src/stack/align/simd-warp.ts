// The two-pass warp on WebAssembly SIMD (kernels in simd/kernels.ts) for 8-bit RGB frames, the
// camera's format: filters each source row once into a ring in the module's memory (pass 1), resamples
// small strips of output rows from the ring (pass 2) and copies them back.
//
// Same geometry and Keys kernel as resample.ts; differences from its float path: positions are
// quantised to 1/256 px, the intermediate rows are 8-bit, and with rotation pass 2 takes one source
// row position per 16-byte block. Together they move a sample by < 0.02 px and change it by at most
// 1 level on 99.5 % of samples, 3 where an overshoot was clipped between the passes (tested). Frames
// it does not take (grey, 16-bit, larger rotations) stay on the float path.
import { instantiateKernels, reserveMemory, roundUp16, type Kernels } from './simd-module.js';
import { linearPart } from './transform.js';
import type { WarpGeometry, WarpSpec } from './resample.js';

/**
 * Output rows per strip. Pass 1 keeps a ring of filtered source rows that a strip reaches (rotation
 * spreads them: |sin θ|·width rows), filtering each source row once; small strips keep the ring and
 * the strip's output in cache between the passes and the copy out.
 */
const STRIP_ROWS = 16;
/** Replicated edge pixels on each side of a source row: the 16-byte loads never leave it. */
const PAD = 8;
/** Pass 2 takes one row position per 16 bytes (5⅓ RGB pixels): with rotation that shifts samples by up to |m10|·2.7 px. */
const MAX_BLOCK_ERROR_PX = 0.01;
const BLOCK_HALF_WIDTH_PX = 8 / 3;
const PHASES = 256;
const TABLE_BASE = 1024;
const H_TABLE_BYTES = (PHASES + 1) * 32;
const V_TABLE_BYTES = (PHASES + 1) * 8;

/** Whether the SIMD warp takes this frame and transform (else the float path does). */
export function simdWarpApplies(g: WarpGeometry, spec: WarpSpec): boolean {
  const { m10, m11 } = linearPart(spec.transform);
  return (
    g.channels === 3 &&
    g.maxValue === 255 &&
    g.width >= 8 &&
    Math.abs(m11) >= 0.5 &&
    Math.abs(m10) * BLOCK_HALF_WIDTH_PX <= MAX_BLOCK_ERROR_PX &&
    spec.gains.every((gain) => gain >= 0 && gain < 1.99)
  );
}

export class SimdWarper {
  private readonly kernels: Kernels;

  private constructor(kernels: Kernels) {
    this.kernels = kernels;
  }

  /** One per worker; null when the module is missing or the runtime lacks SIMD. */
  static create(): SimdWarper | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdWarper(kernels) : null;
  }

  /** Output rows [start, end) of `dst` from `src`; the caller has checked simdWarpApplies. */
  warpRows(
    src: Uint8Array,
    dst: Uint8Array,
    g: WarpGeometry,
    spec: WarpSpec,
    start: number,
    end: number,
  ): void {
    const { width, height } = g;
    const { dx, dy } = spec.transform;
    const { m00, m01, m10, m11 } = linearPart(spec.transform);
    const cx = (width - 1) / 2;
    const cy = (height - 1) / 2;
    // Pass 1's source column X(x, r) = a·x + b0 + slope·r; pass 2's row Y(x, y) = m10·x + m11·y + c.
    const a = (m00 * m11 - m01 * m10) / m11;
    const slope = m01 / m11;
    const b0 = cx + dx - a * cx - slope * (cy + dy);
    const c = cy + dy - m11 * cy - m10 * cx;

    const rowBytes = width * 3;
    const srcStride = roundUp16((width + 2 * PAD) * 3 + 16);
    const stride = roundUp16(rowBytes + 16);
    const strip = Math.min(STRIP_ROWS, Math.max(1, end - start));
    // Source rows one strip's samples (and their taps) reach; the ring of filtered rows holds them all.
    const reach = Math.ceil(strip * Math.abs(m11) + Math.abs(m10) * (width + 4)) + 9;
    let ringRows = 16;
    while (ringRows < reach) ringRows *= 2;
    const hTable = TABLE_BASE;
    const vTable = hTable + H_TABLE_BYTES;
    const srcBase = roundUp16(vTable + V_TABLE_BYTES);
    const interBase = srcBase + ringRows * srcStride;
    const outBase = interBase + ringRows * stride;
    const memory = reserveMemory(this.kernels, outBase + strip * stride);
    // Pass 1 applies each gain relative to the largest, pass 2 the largest: the 8-bit intermediate
    // rows then never clip a sample that the full gain would have brought above 255.
    const peak = Math.max(1, ...spec.gains);
    const shift = writeHorizontalTable(
      new DataView(memory.buffer),
      hTable,
      spec.gains.map((gain) => gain / peak),
    );
    writeVerticalTable(new DataView(memory.buffer), vTable, peak);
    const heap = new Uint8Array(memory.buffer);
    const k = this.kernels;

    /** Pass 1 on source rows [first, last] (beyond the frame: its edge rows), into their ring slots. */
    const filter = (first: number, last: number): void => {
      for (let r0 = first; r0 <= last;) {
        // Up to the ring's end: slots r & (ringRows − 1) are contiguous until they wrap.
        const rows = Math.min(last - r0 + 1, ringRows - (r0 & (ringRows - 1)));
        for (let i = 0; i < rows; i++) {
          const r = Math.min(height - 1, Math.max(0, r0 + i));
          heap.set(src.subarray(r * rowBytes, (r + 1) * rowBytes), srcBase + i * srcStride + PAD * 3);
        }
        k.padRows(srcBase, srcStride, rows, width, PAD);
        const slot = interBase + (r0 & (ringRows - 1)) * stride;
        k.horizontal(
          srcBase,
          srcStride,
          PAD,
          width,
          slot,
          stride,
          width,
          rows,
          r0,
          a,
          b0,
          slope,
          hTable,
          shift,
        );
        r0 += rows;
      }
    };

    // Rows [filteredFrom, filteredTo] are in the ring; each source row is filtered once per band.
    let filteredFrom = 0;
    let filteredTo = -1;
    for (let y0 = start; y0 < end; y0 += strip) {
      const rows = Math.min(strip, end - y0);
      // The source rows this strip's samples reach, block centres and the carry of rounding included.
      const ys = [-1, width + 3].flatMap((x) => [y0, y0 + rows - 1].map((y) => m10 * x + m11 * y + c));
      const first = Math.floor(Math.min(...ys)) - 1;
      const last = Math.floor(Math.max(...ys)) + 3;
      if (last - first + 1 > ringRows)
        throw new Error(`strip needs ${last - first + 1} source rows, the ring holds ${ringRows}`);
      if (filteredTo < filteredFrom || first < filteredFrom || first > filteredTo + 1) {
        filter(first, last);
        filteredFrom = first;
        filteredTo = last;
      } else if (last > filteredTo) {
        filter(filteredTo + 1, last);
        filteredTo = last;
        filteredFrom = Math.max(filteredFrom, last - ringRows + 1);
      }
      k.vertical(
        interBase,
        stride,
        ringRows - 1,
        outBase,
        stride,
        rowBytes,
        3,
        y0,
        rows,
        m10,
        m11,
        c,
        vTable,
      );
      for (let i = 0; i < rows; i++) {
        const from = outBase + i * stride;
        dst.set(heap.subarray(from, from + rowBytes), (y0 + i) * rowBytes);
      }
    }
  }
}

/**
 * Pass 1's taps per phase with the channels' gains folded in, as i16 with `shift` fraction bits; each
 * channel's taps are made to sum exactly to its gain, so flat areas keep their level.
 */
function writeHorizontalTable(view: DataView, base: number, gains: number[]): number {
  let shift = 14;
  while (Math.max(...gains) * 1.25 * 2 ** shift > 32767) shift--;
  const weights = new Float64Array(4);
  for (let p = 0; p <= PHASES; p++) {
    keysWeights(p / PHASES, weights);
    const entry = base + p * 32;
    for (let ch = 0; ch < 3; ch++) {
      const taps = quantised(weights, gains[ch] * 2 ** shift);
      // R and G share the first 16 bytes, B the first half of the second.
      const at = entry + (ch === 2 ? 16 : ch * 8);
      taps.forEach((q, i) => view.setInt16(at + 2 * i, q, true));
    }
    for (let i = 0; i < 4; i++) view.setInt16(entry + 24 + 2 * i, 0, true);
  }
  return shift;
}

/** Pass 2's taps per phase in Q14, times `gain` (below 2: simdWarpApplies). */
function writeVerticalTable(view: DataView, base: number, gain: number): void {
  const weights = new Float64Array(4);
  for (let p = 0; p <= PHASES; p++) {
    keysWeights(p / PHASES, weights);
    quantised(weights, gain * 16384).forEach((q, i) => view.setInt16(base + p * 8 + 2 * i, q, true));
  }
}

/** Rounds weights·scale to integers whose sum is round(scale): the rounding goes to the largest tap. */
function quantised(weights: Float64Array, scale: number): number[] {
  const taps = Array.from(weights, (w) => Math.round(w * scale));
  const largest = weights[1] >= weights[2] ? 1 : 2;
  taps[largest] += Math.round(scale) - taps.reduce((s, t) => s + t, 0);
  return taps;
}

/** Keys (a = −0.5) weights of the samples at −1, 0, 1, 2 for a position t in [0, 1]. */
function keysWeights(t: number, out: Float64Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  out[0] = -0.5 * t3 + t2 - 0.5 * t;
  out[1] = 1.5 * t3 - 2.5 * t2 + 1;
  out[2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  out[3] = 0.5 * t3 - 0.5 * t2;
}
