// Burt–Adelson pyramid building blocks on planar Float32 levels: REDUCE (blur 5-tap, halve) and
// EXPAND (upsample, interpolate) one row at a time, so workers can split any level by rows.
// Kernel w = [1 4 6 4 1]/16 (a = 0.375), borders replicated. Burt & Adelson 1983, IEEE Trans. Comm.

const W0 = 6 / 16;
const W1 = 4 / 16;
const W2 = 1 / 16;

const clamp = (v: number, hi: number): number => (v < 0 ? 0 : v > hi ? hi : v);

/** Horizontal half of REDUCE: decimates a filtered source row of width `sw` into `out` at `o`. */
function reduceHorizontal(tmp: Float32Array, sw: number, out: Float32Array, o: number, dw: number): void {
  const last = sw - 1;
  for (let i = 0; i < dw; i++) {
    const x = 2 * i;
    out[o + i] =
      W0 * tmp[x] +
      W1 * (tmp[clamp(x - 1, last)] + tmp[clamp(x + 1, last)]) +
      W2 * (tmp[clamp(x - 2, last)] + tmp[clamp(x + 2, last)]);
  }
}

/** REDUCE rows [start, end) of a planar level (`sw`×`sh` at `srcOff`) into the next (`dw` wide at `dstOff`). */
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
): void {
  const lastY = sh - 1;
  for (let i = start; i < end; i++) {
    const y = 2 * i;
    const r0 = srcOff + y * sw;
    const r1 = srcOff + clamp(y - 1, lastY) * sw,
      r2 = srcOff + clamp(y + 1, lastY) * sw;
    const r3 = srcOff + clamp(y - 2, lastY) * sw,
      r4 = srcOff + clamp(y + 2, lastY) * sw;
    for (let x = 0; x < sw; x++) {
      tmp[x] = W0 * src[r0 + x] + W1 * (src[r1 + x] + src[r2 + x]) + W2 * (src[r3 + x] + src[r4 + x]);
    }
    reduceHorizontal(tmp, sw, dst, dstOff + i * dw, dw);
  }
}

/**
 * REDUCE straight from an interleaved frame (level 0) into planar level 1, scaling samples to 0–1:
 * level 0 is never converted to floats as a whole, which saves a full-size buffer per channel.
 */
export function reduceFrameRows(
  frame: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  maxValue: number,
  dst: Float32Array,
  dstOff: number,
  dw: number,
  dh: number,
  start: number,
  end: number,
  tmp: Float32Array,
): void {
  const lastY = height - 1;
  const inv = 1 / maxValue;
  const w0 = W0 * inv,
    w1 = W1 * inv,
    w2 = W2 * inv;
  const rowLen = width * channels;
  for (let i = start; i < end; i++) {
    const y = 2 * i;
    const r0 = y * rowLen;
    const r1 = clamp(y - 1, lastY) * rowLen,
      r2 = clamp(y + 1, lastY) * rowLen;
    const r3 = clamp(y - 2, lastY) * rowLen,
      r4 = clamp(y + 2, lastY) * rowLen;
    for (let c = 0; c < channels; c++) {
      for (let x = 0, s = c; x < width; x++, s += channels) {
        tmp[x] =
          w0 * frame[r0 + s] + w1 * (frame[r1 + s] + frame[r2 + s]) + w2 * (frame[r3 + s] + frame[r4 + s]);
      }
      reduceHorizontal(tmp, width, dst, dstOff + c * dw * dh + i * dw, dw);
    }
  }
}

/** EXPAND: row `y` of the level above (`dw` wide) interpolated from a planar level `sw`×`sh` at `srcOff`. */
export function expandRow(
  src: Float32Array,
  srcOff: number,
  sw: number,
  sh: number,
  y: number,
  dw: number,
  out: Float32Array,
  tmp: Float32Array,
): void {
  const j = y >> 1;
  const lastY = sh - 1;
  const lastX = sw - 1;
  if ((y & 1) === 0) {
    const a = srcOff + clamp(j - 1, lastY) * sw,
      b = srcOff + clamp(j, lastY) * sw,
      c = srcOff + clamp(j + 1, lastY) * sw;
    for (let x = 0; x < sw; x++) tmp[x] = 0.125 * (src[a + x] + src[c + x]) + 0.75 * src[b + x];
  } else {
    const a = srcOff + clamp(j, lastY) * sw,
      b = srcOff + clamp(j + 1, lastY) * sw;
    for (let x = 0; x < sw; x++) tmp[x] = 0.5 * (src[a + x] + src[b + x]);
  }
  for (let x = 0; x < dw; x++) {
    const i = x >> 1;
    if ((x & 1) === 0)
      out[x] = 0.125 * (tmp[clamp(i - 1, lastX)] + tmp[clamp(i + 1, lastX)]) + 0.75 * tmp[clamp(i, lastX)];
    else out[x] = 0.5 * (tmp[clamp(i, lastX)] + tmp[clamp(i + 1, lastX)]);
  }
}
