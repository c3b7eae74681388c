// Helpers for the alignment tests: an analytic specimen, and blur and noise on square images.
import { seeded } from './frames.js';

export function blur(img: Float32Array, size: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-0.5 * ((i - r) / sigma) ** 2));
  const sum = k.reduce((p, q) => p + q);
  const at = (v: number) => Math.min(size - 1, Math.max(0, v));
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * img[y * size + at(x + i)];
      tmp[y * size + x] = s / sum;
    }
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[at(y + i) * size + x];
      out[y * size + x] = s / sum;
    }
  return out;
}

export function noisy(img: Float32Array, sigma: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  return img.map((v) => v + sigma * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
}

/** Random transform within the focus-stack envelope: ±3 % scale, ±1°, ±20 px. */

/**
 * A procedural specimen, Gaussian blobs on a few slow sinusoids, evaluated analytically at any point, so a
 * transformed view is exact. (Resampling a pixel canvas would not be: bicubic interpolation has a phase
 * error of ~0.07 px at quarter-pixel offsets on this texture, as large as the tolerances under test.)
 */
export interface Specimen {
  blobs: Float64Array; // x, y, σ, amplitude
  waves: Float64Array; // fx, fy, phase, amplitude
}

export function makeSpecimen(seed: number, extent: number): Specimen {
  const rnd = seeded(seed);
  const count = Math.round((extent * extent) / 40);
  const blobs = new Float64Array(4 * count);
  for (let i = 0; i < count; i++) {
    blobs.set(
      [(rnd() - 0.5) * extent, (rnd() - 0.5) * extent, 1 + 3 * rnd() * rnd(), (rnd() - 0.5) * 0.5],
      4 * i,
    );
  }
  const waves = new Float64Array(4 * 6);
  for (let i = 0; i < 6; i++)
    waves.set([(rnd() - 0.5) * 0.08, (rnd() - 0.5) * 0.08, rnd() * 6.28, 0.03 + 0.04 * rnd()], 4 * i);
  return { blobs, waves };
}
