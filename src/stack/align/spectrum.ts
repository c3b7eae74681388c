// Shared helpers for frame alignment: 2-D FFTs of size×size frames from fft.js 1-D transforms (rows, then
// columns), the apodisation window, filters, bicubic resampling under a similarity, a small SPD solver.
import FFT from 'fft.js';
import type { FrameTransform } from './transform.js';

export function checkAlignSize(size: number, who: string): void {
  if (!Number.isInteger(size) || size < 16 || (size & (size - 1)) !== 0) {
    throw new RangeError(`${who}: size must be a power of two ≥ 16, got ${size}`);
  }
}

export interface Fft2 {
  readonly size: number;
  /** Inverse transform of `data` (re, im interleaved, row-major) in place, including the 1/size². */
  inverse(data: Float64Array): void;
  /** Forward transform of the real image `real` (size², row-major) into `out` (interleaved complex). */
  forwardReal(real: Float64Array, out: Float64Array): void;
}

// Columns are transformed in groups: gathering BLOCK neighbouring columns reads 2·BLOCK contiguous doubles
// per row instead of 2, which matters once a frame outgrows the cache (≥ 512²).
const BLOCK = 8;

export function createFft2(size: number): Fft2 {
  const fft = new FFT(size);
  const n2 = 2 * size;
  const block = Math.min(BLOCK, size);
  const lines: Float64Array[] = [];
  for (let b = 0; b < block; b++) lines.push(new Float64Array(n2));
  const out = new Float64Array(n2);

  /** 1-D transforms of columns x0 … x1 − 1 of `data`, in place. */
  function columns(data: Float64Array, x1: number, inverse: boolean): void {
    for (let x0 = 0; x0 < x1; x0 += block) {
      const nb = Math.min(block, x1 - x0);
      for (let y = 0; y < size; y++) {
        const o = y * n2 + 2 * x0;
        for (let b = 0; b < nb; b++) {
          lines[b][2 * y] = data[o + 2 * b];
          lines[b][2 * y + 1] = data[o + 2 * b + 1];
        }
      }
      for (let b = 0; b < nb; b++) {
        if (inverse) fft.inverseTransform(out, lines[b]);
        else fft.transform(out, lines[b]);
        lines[b].set(out);
      }
      for (let y = 0; y < size; y++) {
        const o = y * n2 + 2 * x0;
        for (let b = 0; b < nb; b++) {
          data[o + 2 * b] = lines[b][2 * y];
          data[o + 2 * b + 1] = lines[b][2 * y + 1];
        }
      }
    }
  }

  /** Inverse transform including the 1/size² normalisation (fft.js divides by the length per axis). */
  function inverse(data: Float64Array): void {
    for (let y = 0; y < size; y++) {
      const o = y * n2;
      // fft.js only indexes its input, so a subarray view spares a copy.
      fft.inverseTransform(out, data.subarray(o, o + n2));
      data.set(out, o);
    }
    columns(data, size, true);
  }

  /**
   * Real input has a Hermitian spectrum, F(v, u) = conj F(−v, −u): transform the rows as real signals
   * (bins 0 … N/2 only), the columns of those bins, and mirror the rest. About half a complex transform.
   */
  function forwardReal(real: Float64Array, dst: Float64Array): void {
    const half = size >> 1;
    for (let y = 0; y < size; y++) {
      fft.realTransform(out, real.subarray(y * size, (y + 1) * size));
      dst.set(out.subarray(0, 2 * half + 2), y * n2);
    }
    columns(dst, half + 1, false);
    for (let v = 0; v < size; v++) {
      const row = v * n2;
      const mirror = ((size - v) & (size - 1)) * n2;
      for (let u = half + 1; u < size; u++) {
        dst[row + 2 * u] = dst[mirror + 2 * (size - u)];
        dst[row + 2 * u + 1] = -dst[mirror + 2 * (size - u) + 1];
      }
    }
  }

  return { size, inverse, forwardReal };
}

/**
 * Hann window sampled at pixel centres, symmetric about (size − 1)/2 and never exactly 0, so every pixel
 * keeps some weight. Tapering the frame to zero at its borders removes the wrap-around discontinuity that
 * would otherwise put a strong, motion-independent cross on the spectrum's axes.
 */
export function hannWindow(size: number): Float64Array {
  const w = new Float64Array(size);
  for (let i = 0; i < size; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / size);
  return w;
}

/**
 * Writes the mean-subtracted, windowed `image` into `dst` (size², real).
 * Subtracting the mean first keeps the window's own spectrum (a lump at DC) out of the result.
 */
export function loadWindowed(image: Float32Array, size: number, win: Float64Array, dst: Float64Array): void {
  const n = size * size;
  if (image.length < n) throw new RangeError(`align: image shorter than ${size}×${size}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += image[i];
  const mean = sum / n;
  for (let y = 0, i = 0; y < size; y++) {
    const wy = win[y];
    for (let x = 0; x < size; x++, i++) {
      dst[i] = (image[i] - mean) * wy * win[x];
    }
  }
}

/** Signed frequency of FFT bin k (k ≥ size/2 are the negative frequencies). */
export const signedBin = (k: number, size: number): number => (k >= size >> 1 ? k - size : k);

/** Normalised 1-D Gaussian kernel of radius ⌈3σ⌉. */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Separable convolution of a size×size image with a symmetric kernel, edges clamped. `tmp` holds the
 * horizontal pass; `src` and `dst` may be the same array.
 */
export function convolveSeparable(
  src: Float32Array,
  size: number,
  kernel: Float64Array,
  tmp: Float32Array,
  dst: Float32Array,
  acc = new Float64Array(size),
): void {
  const r = kernel.length >> 1;
  const taps = kernel.length;
  const last = size - 1;
  const clamp = (i: number) => (i < 0 ? 0 : i > last ? last : i);
  // Interior samples need no clamping: separate loops keep the hot one free of branches.
  const x0 = Math.min(r, size);
  const x1 = Math.max(x0, size - r);
  for (let y = 0; y < size; y++) {
    const o = y * size;
    for (let x = 0; x < size; x = x === x0 - 1 ? x1 : x + 1) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r] * src[o + clamp(x + k)];
      tmp[o + x] = s;
    }
    for (let x = x0, j = o; x < x1; x++, j++) {
      let s = 0;
      for (let k = 0; k < taps; k++) s += kernel[k] * src[j + k];
      tmp[o + x] = s;
    }
  }
  // Vertical pass a row at a time: contiguous reads, accumulated in double precision.
  for (let y = 0; y < size; y++) {
    acc.fill(0);
    for (let k = 0; k < taps; k++) {
      const w = kernel[k];
      const row = clamp(y + k - r) * size;
      for (let x = 0; x < size; x++) acc[x] += w * tmp[row + x];
    }
    dst.set(acc, y * size);
  }
}

/**
 * Maps reference pixel coordinates to moving ones: x_m = scale·R(rotationDeg)·(x_r − c) + c + (dx, dy),
 * c = ((size − 1)/2, (size − 1)/2), R(θ) = [cos −sin; sin cos] acting on (x, y) with y pointing down
 * (so positive angles turn the content clockwise on screen).
 */
export type Similarity = Pick<FrameTransform, 'dx' | 'dy' | 'scale' | 'rotationDeg'>;

/**
 * out(x) = src(T(x)), T the similarity `t`: resamples a moving frame onto the reference grid. Bicubic
 * (Keys, a = −0.5); taps outside `src` are clamped to its edge.
 */
export function applySimilarity(src: Float32Array, size: number, t: Similarity, out: Float32Array): void {
  const c = (size - 1) / 2;
  const th = (t.rotationDeg * Math.PI) / 180;
  const a = t.scale * Math.cos(th);
  const b = t.scale * Math.sin(th);
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    const Y = y - c;
    // T is affine, so each row is a straight line through src: step along it instead of re-multiplying.
    let u = -a * c - b * Y + c + t.dx;
    let v = -b * c + a * Y + c + t.dy;
    for (let x = 0; x < size; x++, u += a, v += b) {
      if (u >= 1 && v >= 1 && u < last - 1 && v < last - 1) {
        out[y * size + x] = bicubicInterior(src, size, u, v);
        continue;
      }
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      let s = 0;
      for (let j = 0; j < 4; j++) {
        const row = Math.min(last, Math.max(0, iv - 1 + j)) * size;
        const w = keys(v - iv + 1 - j);
        for (let i = 0; i < 4; i++)
          s += w * keys(u - iu + 1 - i) * src[row + Math.min(last, Math.max(0, iu - 1 + i))];
      }
      out[y * size + x] = s;
    }
  }
}

/** Keys cubic convolution weight, a = −0.5. */
function keys(t: number): number {
  const u = t < 0 ? -t : t;
  if (u < 1) return (1.5 * u - 2.5) * u * u + 1;
  if (u < 2) return ((-0.5 * u + 2.5) * u - 4) * u + 2;
  return 0;
}

/** Bicubic (Keys, a = −0.5) sample of `src` at (u, v), which must satisfy 1 ≤ u, v < size − 2. */
export function bicubicInterior(src: Float32Array, size: number, u: number, v: number): number {
  const iu = Math.floor(u);
  const iv = Math.floor(v);
  const fu = u - iu;
  const fv = v - iv;
  // The Keys weights of the taps at −1, 0, 1, 2 as polynomials in the fraction: no branches.
  const fu2 = fu * fu;
  const fu3 = fu2 * fu;
  const w0 = -0.5 * fu3 + fu2 - 0.5 * fu;
  const w1 = 1.5 * fu3 - 2.5 * fu2 + 1;
  const w2 = -1.5 * fu3 + 2 * fu2 + 0.5 * fu;
  const w3 = 0.5 * fu3 - 0.5 * fu2;
  const fv2 = fv * fv;
  const fv3 = fv2 * fv;
  let o = (iv - 1) * size + iu - 1;
  let s = (-0.5 * fv3 + fv2 - 0.5 * fv) * (w0 * src[o] + w1 * src[o + 1] + w2 * src[o + 2] + w3 * src[o + 3]);
  o += size;
  s += (1.5 * fv3 - 2.5 * fv2 + 1) * (w0 * src[o] + w1 * src[o + 1] + w2 * src[o + 2] + w3 * src[o + 3]);
  o += size;
  s +=
    (-1.5 * fv3 + 2 * fv2 + 0.5 * fv) * (w0 * src[o] + w1 * src[o + 1] + w2 * src[o + 2] + w3 * src[o + 3]);
  o += size;
  return s + (0.5 * fv3 - 0.5 * fv2) * (w0 * src[o] + w1 * src[o + 1] + w2 * src[o + 2] + w3 * src[o + 3]);
}

/**
 * Marks (1) every pixel within r (Chebyshev distance) of a flat one, flat meaning equal to all its 8
 * neighbours: padding around a non-square frame, clipped highlights, a black background. Such areas carry
 * no position information, and their borders do not move with the specimen. `tmp` is scratch.
 */
export function flatBand(src: Float32Array, size: number, r: number, out: Uint8Array, tmp: Uint8Array): void {
  out.fill(0);
  const around = [-1, 1, -size, size, -size - 1, -size + 1, size - 1, size + 1];
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1, i = y * size + 1; x < size - 1; x++, i++) {
      let k = 0;
      while (k < 8 && src[i + around[k]] === src[i]) k++;
      out[i] = k === 8 ? 1 : 0;
    }
  }
  // Separable dilation with running counts of flat pixels in the window: O(1) per pixel.
  for (let y = 0; y < size; y++) dilateLine(out, tmp, y * size, 1, size, r);
  for (let x = 0; x < size; x++) dilateLine(tmp, out, x, size, size, r);
}

/** dst[k] = 1 if any src[j] with |j − k| ≤ r is non-zero, along the line at + k·step, k < n. */
function dilateLine(src: Uint8Array, dst: Uint8Array, at: number, step: number, n: number, r: number): void {
  let count = 0;
  for (let k = 0; k < r && k < n; k++) count += src[at + k * step];
  for (let k = 0; k < n; k++) {
    if (k + r < n) count += src[at + (k + r) * step];
    if (k - r - 1 >= 0) count -= src[at + (k - r - 1) * step];
    dst[at + k * step] = count > 0 ? 1 : 0;
  }
}

/** 2×2 box average of a size×size image into (size/2)²: the next pyramid level, pixel centres aligned. */
export function downsample2(src: Float32Array, size: number, dst: Float32Array): void {
  const h = size >> 1;
  for (let y = 0; y < h; y++) {
    const o = 2 * y * size;
    for (let x = 0; x < h; x++) {
      const i = o + 2 * x;
      dst[y * h + x] = 0.25 * (src[i] + src[i + 1] + src[i + size] + src[i + size + 1]);
    }
  }
}

/** Cholesky factor, in place, of the m×m SPD matrix whose lower triangle `H` holds; false if not SPD. */
export function cholesky(H: Float64Array, m: number): boolean {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = H[i * m + j];
      for (let k = 0; k < j; k++) s -= H[i * m + k] * H[j * m + k];
      if (i !== j) H[i * m + j] = s / H[j * m + j];
      else if (s > 0) H[i * m + i] = Math.sqrt(s);
      else return false;
    }
  }
  return true;
}

/** Solves L·Lᵀ·x = g with the factor {@link cholesky} left in `L`. */
export function choleskySolve(L: Float64Array, m: number, g: Float64Array, x: Float64Array): void {
  for (let i = 0; i < m; i++) {
    let s = g[i];
    for (let k = 0; k < i; k++) s -= L[i * m + k] * x[k];
    x[i] = s / L[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < m; k++) s -= L[k * m + i] * x[k];
    x[i] = s / L[i * m + i];
  }
}
