// Shared helpers for frame alignment: in-place 2-D FFT of interleaved complex size×size buffers (fft.js
// 1-D transforms over rows, then columns), the apodisation window and small separable spatial filters.
import FFT from 'fft.js';

export function checkAlignSize(size: number, who: string): void {
  if (!Number.isInteger(size) || size < 16 || (size & (size - 1)) !== 0) {
    throw new RangeError(`${who}: size must be a power of two ≥ 16, got ${size}`);
  }
}

export interface Fft2 {
  readonly size: number;
  /** Forward transform of `data` (re, im interleaved, row-major), in place. */
  forward(data: Float64Array): void;
  /** Inverse transform including the 1/size² normalisation, in place. */
  inverse(data: Float64Array): void;
}

export function createFft2(size: number): Fft2 {
  const fft = new FFT(size);
  const n2 = 2 * size;
  const line = new Float64Array(n2);
  const out = new Float64Array(n2);

  function pass(data: Float64Array, inverse: boolean): void {
    for (let y = 0; y < size; y++) {
      const o = y * n2;
      // fft.js only indexes its input, so a subarray view spares the copy into `line`.
      if (inverse) fft.inverseTransform(out, data.subarray(o, o + n2));
      else fft.transform(out, data.subarray(o, o + n2));
      data.set(out, o);
    }
    for (let x = 0; x < size; x++) {
      for (let y = 0, i = 2 * x; y < size; y++, i += n2) {
        line[2 * y] = data[i];
        line[2 * y + 1] = data[i + 1];
      }
      if (inverse) fft.inverseTransform(out, line);
      else fft.transform(out, line);
      for (let y = 0, i = 2 * x; y < size; y++, i += n2) {
        data[i] = out[2 * y];
        data[i + 1] = out[2 * y + 1];
      }
    }
  }

  return {
    size,
    forward: (data) => pass(data, false),
    // fft.js's inverseTransform already divides by the length, once per axis: 1/size² in total.
    inverse: (data) => pass(data, true),
  };
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
 * Writes the mean-subtracted, windowed `image` into `dst` as complex numbers (imaginary parts 0).
 * Subtracting the mean first keeps the window's own spectrum (a lump at DC) out of the result.
 */
export function loadWindowed(
  image: ArrayLike<number>,
  size: number,
  win: Float64Array,
  dst: Float64Array,
): void {
  const n = size * size;
  if (image.length < n) throw new RangeError(`align: image shorter than ${size}×${size}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += image[i];
  const mean = sum / n;
  for (let y = 0, i = 0; y < size; y++) {
    const wy = win[y];
    for (let x = 0; x < size; x++, i++) {
      dst[2 * i] = (image[i] - mean) * wy * win[x];
      dst[2 * i + 1] = 0;
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
  src: ArrayLike<number>,
  size: number,
  kernel: Float64Array,
  tmp: Float32Array,
  dst: Float32Array,
): void {
  const r = kernel.length >> 1;
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    const o = y * size;
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        const xx = x + k;
        s += kernel[k + r] * src[o + (xx < 0 ? 0 : xx > last ? last : xx)];
      }
      tmp[o + x] = s;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        const yy = y + k;
        s += kernel[k + r] * tmp[(yy < 0 ? 0 : yy > last ? last : yy) * size + x];
      }
      dst[y * size + x] = s;
    }
  }
}
