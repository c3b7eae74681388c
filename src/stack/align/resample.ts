// Resamples a frame into the reference frame's geometry, once, with the Keys cubic kernel (a = −0.5),
// applying the per-channel brightness gains in the same pass. Split by output rows between workers.
//
// Output pixel p (reference coordinates) takes the frame's sample at T(p) = A·(p − c) + c + d, A =
// s·R(θ) (see transform.ts). A 4×4 kernel per output pixel costs 16 taps per sample; instead the
// map is split in two one-dimensional passes (Catmull & Smith 1980), 8 taps per sample:
//   pass 1: I(x, r) = frame(X(x, r), r)   — along each source row r, X linear in x;
//   pass 2: out(x, y) = I(x, Y(x, y))     — down each column, Y(x, y) = m10·(x − cx) + m11·(y − cy) + cy + dy.
// X(x, r) is the frame column that output column x reaches on source row r. Rotation makes Y vary
// along an output row, by |m10|·width rows, so pass 1 keeps a ring of the filtered rows that span
// covers. Without rotation both passes are plain separable filtering with taps worked out once.
// Samples beyond the frame replicate its edge; the stacker keeps such pixels from winning (coverage).
import { SimdWarper, simdWarpApplies } from './simd-warp.js';
import { linearPart, pointMapper, type FrameTransform } from './transform.js';

/** Rotations whose ring of intermediate rows would exceed this many rows take the direct 4×4 path. */
const MAX_RING_ROWS = 1024;

export interface WarpSpec {
  transform: FrameTransform;
  /** Per-channel multipliers that bring the frame's brightness to the reference's. */
  gains: number[];
}

export interface WarpGeometry {
  width: number;
  height: number;
  channels: 1 | 3;
  maxValue: number;
}

/** Per-worker scratch: pass 1's ring of filtered rows (grown on demand) and column taps. */
export interface WarpScratch {
  ring: Float32Array;
  ringRow: Int32Array;
  columnStart: Int32Array;
  columnWeights: Float32Array;
  /** The WebAssembly SIMD warp for 8-bit RGB (simd-warp.ts); null: the float path does every frame. */
  simd: SimdWarper | null;
}

export function createWarpScratch(
  width: number,
  channels: number,
  options: { simd?: boolean } = {},
): WarpScratch {
  return {
    ring: new Float32Array(8 * width * channels),
    ringRow: new Int32Array(8),
    columnStart: new Int32Array(width),
    columnWeights: new Float32Array(4 * width),
    simd: options.simd === false ? null : SimdWarper.create(),
  };
}

/** Writes output rows [start, end) of `dst` from `src` (both interleaved, same geometry). */
export function warpRows(
  src: Uint8Array | Uint16Array,
  dst: Uint8Array | Uint16Array,
  g: WarpGeometry,
  spec: WarpSpec,
  start: number,
  end: number,
  s: WarpScratch,
): void {
  if (s.simd && src instanceof Uint8Array && dst instanceof Uint8Array && simdWarpApplies(g, spec)) {
    s.simd.warpRows(src, dst, g, spec, start, end);
    return;
  }
  const { m10, m11 } = linearPart(spec.transform);
  const span = Math.ceil(Math.abs(m10) * g.width) + 6;
  let ringRows = 8;
  while (ringRows < span) ringRows *= 2;
  // A rotation near 90° would need every row at once (and m11 → 0 divides by zero in pass 1).
  if (ringRows > MAX_RING_ROWS || Math.abs(m11) < 0.5) {
    warpDirect(src, dst, g, spec, start, end);
    return;
  }
  const rowLen = g.width * g.channels;
  if (s.ringRow.length < ringRows) {
    s.ring = new Float32Array(ringRows * rowLen);
    s.ringRow = new Int32Array(ringRows);
  }
  warpTwoPass(src, dst, g, spec, start, end, s, s.ringRow.length);
}

function warpTwoPass(
  src: Uint8Array | Uint16Array,
  dst: Uint8Array | Uint16Array,
  g: WarpGeometry,
  spec: WarpSpec,
  start: number,
  end: number,
  s: WarpScratch,
  ringRows: number,
): void {
  const { width, height, channels: ch, maxValue } = g;
  const { dx, dy } = spec.transform;
  const { m00, m01, m10, m11 } = linearPart(spec.transform);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const lastX = width - 1;
  const lastY = height - 1;
  const rowLen = width * ch;
  const mask = ringRows - 1;
  const { ring, ringRow, columnStart, columnWeights } = s;
  ringRow.fill(-0x80000000);

  // Pass 1 along source row r: X(x, r) = a·x + b(r). With no rotation (m01 = 0) b is the same for
  // every row, so the taps are worked out once.
  const a = (m00 * m11 - m01 * m10) / m11;
  const slope = m01 / m11;
  const b0 = cx + dx - a * cx - slope * (cy + dy);
  const rowInvariant = m01 === 0;
  const computeTaps = (b: number): void => {
    for (let x = 0; x < width; x++) {
      const xs = a * x + b;
      const x0 = Math.floor(xs);
      columnStart[x] = x0 - 1;
      keys(xs - x0, columnWeights, 4 * x);
    }
  };
  if (rowInvariant) computeTaps(b0);

  const filterRow = (r: number): void => {
    const slot = r & mask;
    if (ringRow[slot] === r) return;
    ringRow[slot] = r;
    if (!rowInvariant) computeTaps(b0 + slope * r);
    const base = (r < 0 ? 0 : r > lastY ? lastY : r) * rowLen;
    const out = slot * rowLen;
    for (let x = 0; x < width; x++) {
      const x0 = columnStart[x];
      const w = 4 * x;
      const w0 = columnWeights[w];
      const w1 = columnWeights[w + 1];
      const w2 = columnWeights[w + 2];
      const w3 = columnWeights[w + 3];
      if (x0 >= 0 && x0 + 3 <= lastX) {
        let p = base + x0 * ch;
        if (ch === 3) {
          const o = out + 3 * x;
          ring[o] = w0 * src[p] + w1 * src[p + 3] + w2 * src[p + 6] + w3 * src[p + 9];
          p++;
          ring[o + 1] = w0 * src[p] + w1 * src[p + 3] + w2 * src[p + 6] + w3 * src[p + 9];
          p++;
          ring[o + 2] = w0 * src[p] + w1 * src[p + 3] + w2 * src[p + 6] + w3 * src[p + 9];
        } else {
          ring[out + x] = w0 * src[p] + w1 * src[p + 1] + w2 * src[p + 2] + w3 * src[p + 3];
        }
      } else {
        // Near the frame's edge: replicate it.
        const i0 = base + clamp(x0, lastX) * ch;
        const i1 = base + clamp(x0 + 1, lastX) * ch;
        const i2 = base + clamp(x0 + 2, lastX) * ch;
        const i3 = base + clamp(x0 + 3, lastX) * ch;
        for (let c = 0; c < ch; c++)
          ring[out + x * ch + c] = w0 * src[i0 + c] + w1 * src[i1 + c] + w2 * src[i2 + c] + w3 * src[i3 + c];
      }
    }
  };

  const gains = spec.gains;
  const g0 = gains[0];
  const g1 = gains[ch === 3 ? 1 : 0];
  const g2 = gains[ch === 3 ? 2 : 0];
  const wy = new Float32Array(4);
  for (let y = start; y < end; y++) {
    // Y along this output row runs from yLeft (x = 0) to yLeft + m10·lastX.
    const yLeft = m11 * (y - cy) + cy + dy - m10 * cx;
    const yRight = yLeft + m10 * lastX;
    const first = Math.floor(Math.min(yLeft, yRight)) - 1;
    const last = Math.floor(Math.max(yLeft, yRight)) + 2;
    for (let r = first; r <= last; r++) filterRow(r);
    const o = y * rowLen;
    if (m10 === 0) {
      const y0 = Math.floor(yLeft);
      keys(yLeft - y0, wy, 0);
      const r0 = ((y0 - 1) & mask) * rowLen;
      const r1 = (y0 & mask) * rowLen;
      const r2 = ((y0 + 1) & mask) * rowLen;
      const r3 = ((y0 + 2) & mask) * rowLen;
      // Gains folded into the row weights: one multiply-add chain per sample.
      for (let c = 0; c < ch; c++) {
        const gain = c === 0 ? g0 : c === 1 ? g1 : g2;
        const v0 = wy[0] * gain;
        const v1 = wy[1] * gain;
        const v2 = wy[2] * gain;
        const v3 = wy[3] * gain;
        for (let i = c; i < rowLen; i += ch) {
          const v = v0 * ring[r0 + i] + v1 * ring[r1 + i] + v2 * ring[r2 + i] + v3 * ring[r3 + i] + 0.5;
          dst[o + i] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
        }
      }
      continue;
    }
    for (let x = 0; x < width; x++) {
      const ys = yLeft + m10 * x;
      const y0 = Math.floor(ys);
      const t = ys - y0;
      const t2 = t * t;
      const t3 = t2 * t;
      const v0 = -0.5 * t3 + t2 - 0.5 * t;
      const v1 = 1.5 * t3 - 2.5 * t2 + 1;
      const v2 = -1.5 * t3 + 2 * t2 + 0.5 * t;
      const v3 = 0.5 * t3 - 0.5 * t2;
      const col = x * ch;
      const r0 = ((y0 - 1) & mask) * rowLen + col;
      const r1 = (y0 & mask) * rowLen + col;
      const r2 = ((y0 + 1) & mask) * rowLen + col;
      const r3 = ((y0 + 2) & mask) * rowLen + col;
      const q = o + col;
      let v = (v0 * ring[r0] + v1 * ring[r1] + v2 * ring[r2] + v3 * ring[r3]) * g0 + 0.5;
      dst[q] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
      if (ch === 3) {
        v = (v0 * ring[r0 + 1] + v1 * ring[r1 + 1] + v2 * ring[r2 + 1] + v3 * ring[r3 + 1]) * g1 + 0.5;
        dst[q + 1] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
        v = (v0 * ring[r0 + 2] + v1 * ring[r1 + 2] + v2 * ring[r2 + 2] + v3 * ring[r3 + 2]) * g2 + 0.5;
        dst[q + 2] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
      }
    }
  }
}

/** The 4×4 kernel per output pixel: for rotations too large for pass 1's ring (not a focus stack's wobble). */
function warpDirect(
  src: Uint8Array | Uint16Array,
  dst: Uint8Array | Uint16Array,
  g: WarpGeometry,
  spec: WarpSpec,
  start: number,
  end: number,
): void {
  const { width, height, channels, maxValue } = g;
  const map = pointMapper(spec.transform, width, height);
  const lastX = width - 1;
  const lastY = height - 1;
  const wx = new Float32Array(4);
  const wy = new Float32Array(4);
  for (let y = start; y < end; y++) {
    for (let x = 0; x < width; x++) {
      const [xs, ys] = map(x, y);
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      keys(xs - x0, wx, 0);
      keys(ys - y0, wy, 0);
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const yy = clamp(y0 - 1 + j, lastY) * width;
          let row = 0;
          for (let i = 0; i < 4; i++) row += wx[i] * src[(yy + clamp(x0 - 1 + i, lastX)) * channels + c];
          acc += wy[j] * row;
        }
        const v = acc * spec.gains[c] + 0.5;
        dst[(y * width + x) * channels + c] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
      }
    }
  }
}

function keys(t: number, out: Float32Array, o: number): void {
  // Weights of the samples at offsets −1, 0, 1, 2 for a fractional position t in [0, 1).
  const t2 = t * t;
  const t3 = t2 * t;
  out[o] = -0.5 * t3 + t2 - 0.5 * t;
  out[o + 1] = 1.5 * t3 - 2.5 * t2 + 1;
  out[o + 2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  out[o + 3] = 0.5 * t3 - 0.5 * t2;
}

function clamp(i: number, last: number): number {
  return i < 0 ? 0 : i > last ? last : i;
}

/**
 * Whether the frame covers output pixel (x, y): its sample lies inside the frame, not in the
 * replicated border. Pixels a frame does not cover are left to the frames that do.
 */
export function coversPixel(t: FrameTransform, width: number, height: number, x: number, y: number): boolean {
  return pointInside(pointMapper(t, width, height)(x, y), width, height);
}

/** Whether a sample position lies in the frame rather than its replicated border. */
export function pointInside([xs, ys]: [number, number], width: number, height: number): boolean {
  return xs >= -0.5 && xs <= width - 0.5 && ys >= -0.5 && ys <= height - 0.5;
}
