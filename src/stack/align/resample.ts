// Resamples a frame into the reference frame's geometry, once, with the Keys cubic kernel (a = −0.5),
// applying the per-channel brightness gains in the same pass. Split by output rows between workers.
//
// Output pixel p (reference coordinates) takes the frame's sample at T(p) = s·R·(p − c) + c + d
// (see transform.ts). Without rotation the kernel is separable: each source row is filtered
// horizontally once into a small ring of rows, and output rows combine four of them. With rotation
// every output pixel takes a 4×4 neighbourhood. Samples beyond the frame replicate its edge; the
// stacker keeps such pixels from winning (see coverage below).
import { linearPart, pointMapper, type FrameTransform } from './transform.js';

/** Rotations below this (degrees) move no pixel of a 12 MP frame by more than 0.001 px: separable path. */
const SEPARABLE_ROTATION_DEG = 1e-5;

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

function keys(t: number, out: Float32Array, o: number): void {
  // Weights of the samples at offsets −1, 0, 1, 2 for a fractional position t in [0, 1).
  const t2 = t * t;
  const t3 = t2 * t;
  out[o] = -0.5 * t3 + t2 - 0.5 * t;
  out[o + 1] = 1.5 * t3 - 2.5 * t2 + 1;
  out[o + 2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  out[o + 3] = 0.5 * t3 - 0.5 * t2;
}

/** Per-worker scratch for the separable path: column taps and a ring of horizontally filtered rows. */
export interface WarpScratch {
  columnStart: Int32Array;
  columnWeights: Float32Array;
  ring: Float32Array[];
  ringRow: Int32Array;
}

export function createWarpScratch(width: number, channels: number): WarpScratch {
  return {
    columnStart: new Int32Array(width),
    columnWeights: new Float32Array(width * 4),
    ring: Array.from({ length: 4 }, () => new Float32Array(width * channels)),
    ringRow: new Int32Array(4).fill(-1),
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
  if (Math.abs(spec.transform.rotationDeg) < SEPARABLE_ROTATION_DEG)
    warpSeparable(src, dst, g, spec, start, end, s);
  else warpGeneral(src, dst, g, spec, start, end);
}

function warpSeparable(
  src: Uint8Array | Uint16Array,
  dst: Uint8Array | Uint16Array,
  g: WarpGeometry,
  spec: WarpSpec,
  start: number,
  end: number,
  s: WarpScratch,
): void {
  const { width, height, channels, maxValue } = g;
  const { scale, dx, dy } = spec.transform;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const lastX = width - 1;
  const lastY = height - 1;
  for (let x = 0; x < width; x++) {
    const xs = scale * (x - cx) + cx + dx;
    const x0 = Math.floor(xs);
    s.columnStart[x] = x0 - 1;
    keys(xs - x0, s.columnWeights, 4 * x);
  }
  s.ringRow.fill(-1);
  const rowLen = width * channels;
  const filterRow = (r: number): Float32Array => {
    const slot = ((r % 4) + 4) % 4;
    const out = s.ring[slot];
    if (s.ringRow[slot] === r) return out;
    s.ringRow[slot] = r;
    const base = Math.min(lastY, Math.max(0, r)) * rowLen;
    for (let x = 0; x < width; x++) {
      const x0 = s.columnStart[x];
      const w = 4 * x;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let i = 0; i < 4; i++) {
          const xi = x0 + i;
          acc += s.columnWeights[w + i] * src[base + (xi < 0 ? 0 : xi > lastX ? lastX : xi) * channels + c];
        }
        out[x * channels + c] = acc;
      }
    }
    return out;
  };
  const wy = new Float32Array(4);
  const gains = spec.gains;
  for (let y = start; y < end; y++) {
    const ys = scale * (y - cy) + cy + dy;
    const y0 = Math.floor(ys);
    keys(ys - y0, wy, 0);
    const r0 = filterRow(y0 - 1);
    const r1 = filterRow(y0);
    const r2 = filterRow(y0 + 1);
    const r3 = filterRow(y0 + 2);
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = (wy[0] * r0[i] + wy[1] * r1[i] + wy[2] * r2[i] + wy[3] * r3[i]) * gains[i % channels] + 0.5;
      dst[o + i] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
    }
  }
}

function warpGeneral(
  src: Uint8Array | Uint16Array,
  dst: Uint8Array | Uint16Array,
  g: WarpGeometry,
  spec: WarpSpec,
  start: number,
  end: number,
): void {
  const { width, height, channels, maxValue } = g;
  const { dx, dy } = spec.transform;
  const { m00, m01, m10, m11 } = linearPart(spec.transform);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const lastX = width - 1;
  const lastY = height - 1;
  const wx = new Float32Array(4);
  const wy = new Float32Array(4);
  for (let y = start; y < end; y++) {
    for (let x = 0; x < width; x++) {
      const xs = m00 * (x - cx) + m01 * (y - cy) + cx + dx;
      const ys = m10 * (x - cx) + m11 * (y - cy) + cy + dy;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      keys(xs - x0, wx, 0);
      keys(ys - y0, wy, 0);
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const yy = Math.min(lastY, Math.max(0, y0 - 1 + j)) * width;
          let row = 0;
          for (let i = 0; i < 4; i++)
            row += wx[i] * src[(yy + Math.min(lastX, Math.max(0, x0 - 1 + i))) * channels + c];
          acc += wy[j] * row;
        }
        const v = acc * spec.gains[c] + 0.5;
        dst[(y * width + x) * channels + c] = v < 0 ? 0 : v > maxValue ? maxValue : v | 0;
      }
    }
  }
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
