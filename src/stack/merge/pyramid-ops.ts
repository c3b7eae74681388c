// Burt–Adelson pyramid building blocks on planar Float32 levels: REDUCE (blur 5-tap, halve) and
// EXPAND (upsample, interpolate) one row at a time, so workers can split any level by rows.
// Kernel w = [1 4 6 4 1]/16 (a = 0.375), borders replicated. Burt & Adelson 1983, IEEE Trans. Comm.
// Loops run the interior without clamping and treat the few border samples apart: these are the
// hottest loops of the pyramid merge.

import { SIMD_MIN_WIDTH, SimdPyramidRows } from './simd-pyramid.js';

const W0 = 6 / 16;
const W1 = 4 / 16;
const W2 = 1 / 16;

const clamp = (v: number, hi: number): number => (v < 0 ? 0 : v > hi ? hi : v);

// Per thread (each worker loads its own instance); undefined until first asked, null when unavailable.
let simdRows: SimdPyramidRows | null | undefined;

/** The SIMD kernels for a level `sw` wide, or null (narrow level, no SIMD): then the loops below. */
function simdFor(sw: number): SimdPyramidRows | null {
  if (sw < SIMD_MIN_WIDTH) return null;
  if (simdRows === undefined) simdRows = SimdPyramidRows.create();
  return simdRows;
}

/** Horizontal half of REDUCE: decimates a vertically filtered row of width `sw` into `out` at `o`. */
function reduceHorizontal(tmp: Float32Array, sw: number, out: Float32Array, o: number, dw: number): void {
  const last = sw - 1;
  const edge = (i: number): number => {
    const x = 2 * i;
    return (
      W0 * tmp[clamp(x, last)] +
      W1 * (tmp[clamp(x - 1, last)] + tmp[clamp(x + 1, last)]) +
      W2 * (tmp[clamp(x - 2, last)] + tmp[clamp(x + 2, last)])
    );
  };
  // Interior: 2i - 2 ≥ 0 and 2i + 2 ≤ last.
  const safeEnd = Math.min(dw, ((last - 2) >> 1) + 1);
  out[o] = edge(0);
  for (let i = 1, x = 2; i < safeEnd; i++, x += 2) {
    out[o + i] = W0 * tmp[x] + W1 * (tmp[x - 1] + tmp[x + 1]) + W2 * (tmp[x - 2] + tmp[x + 2]);
  }
  for (let i = Math.max(1, safeEnd); i < dw; i++) out[o + i] = edge(i);
}

/**
 * REDUCE rows [start, end) of a planar level (`sw`×`sh` at `srcOff`) into the next (`dw` wide at
 * `dstOff`); wide levels on the SIMD kernels unless `simd` is false (tests compare the two).
 */
export function reduceRows(
  src: Float32Array,
  srcOff: number,
  sw: number,
  sh: number,
  dst: Float32Array,
  dstOff: number,
  dw: number,
  start: number,
  end: number,
  tmp: Float32Array,
  simd = true,
): void {
  const kernels = simd ? simdFor(sw) : null;
  if (kernels) {
    kernels.reduceRows(src, srcOff, sw, sh, dst, dstOff, dw, start, end);
    return;
  }
  const lastY = sh - 1;
  for (let i = start; i < end; i++) {
    const y = 2 * i;
    const r0 = srcOff + clamp(y, lastY) * sw;
    const r1 = srcOff + clamp(y - 1, lastY) * sw;
    const r2 = srcOff + clamp(y + 1, lastY) * sw;
    const r3 = srcOff + clamp(y - 2, lastY) * sw;
    const r4 = srcOff + clamp(y + 2, lastY) * sw;
    for (let x = 0; x < sw; x++) {
      tmp[x] = W0 * src[r0 + x] + W1 * (src[r1 + x] + src[r2 + x]) + W2 * (src[r3 + x] + src[r4 + x]);
    }
    reduceHorizontal(tmp, sw, dst, dstOff + i * dw, dw);
  }
}

/**
 * EXPAND: row `y` of the level above (`dw` wide) interpolated from a planar level `sw`×`sh` at
 * `srcOff`; wide levels on the SIMD kernels unless `simd` is false.
 */
export function expandRow(
  src: Float32Array,
  srcOff: number,
  sw: number,
  sh: number,
  y: number,
  dw: number,
  out: Float32Array,
  tmp: Float32Array,
  simd = true,
): void {
  const kernels = simd ? simdFor(sw) : null;
  if (kernels) {
    kernels.expandRow(src, srcOff, sw, sh, y, dw, out);
    return;
  }
  const j = y >> 1;
  const lastY = sh - 1;
  const lastX = sw - 1;
  if ((y & 1) === 0) {
    const a = srcOff + clamp(j - 1, lastY) * sw;
    const b = srcOff + clamp(j, lastY) * sw;
    const c = srcOff + clamp(j + 1, lastY) * sw;
    for (let x = 0; x < sw; x++) tmp[x] = 0.125 * (src[a + x] + src[c + x]) + 0.75 * src[b + x];
  } else {
    const a = srcOff + clamp(j, lastY) * sw;
    const b = srcOff + clamp(j + 1, lastY) * sw;
    for (let x = 0; x < sw; x++) tmp[x] = 0.5 * (src[a + x] + src[b + x]);
  }
  // Even outputs 2i blend tmp[i-1], tmp[i], tmp[i+1]; odd outputs 2i+1 average tmp[i], tmp[i+1].
  const pairs = dw >> 1;
  const safeEnd = Math.min(pairs, lastX);
  if (pairs > 0) {
    out[0] = 0.125 * (tmp[0] + tmp[clamp(1, lastX)]) + 0.75 * tmp[0];
    out[1] = 0.5 * (tmp[0] + tmp[clamp(1, lastX)]);
  }
  for (let i = 1; i < safeEnd; i++) {
    const l = tmp[i - 1];
    const m = tmp[i];
    const r = tmp[i + 1];
    out[2 * i] = 0.125 * (l + r) + 0.75 * m;
    out[2 * i + 1] = 0.5 * (m + r);
  }
  for (let i = Math.max(1, safeEnd); i < pairs; i++) {
    const m = tmp[clamp(i, lastX)];
    const r = tmp[clamp(i + 1, lastX)];
    out[2 * i] = 0.125 * (tmp[clamp(i - 1, lastX)] + r) + 0.75 * m;
    out[2 * i + 1] = 0.5 * (m + r);
  }
  if (dw & 1) {
    const i = pairs;
    out[2 * i] = 0.125 * (tmp[clamp(i - 1, lastX)] + tmp[clamp(i + 1, lastX)]) + 0.75 * tmp[clamp(i, lastX)];
  }
}
