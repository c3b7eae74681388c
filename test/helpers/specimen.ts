// Helpers for the alignment tests: blur and noise on square single-channel images.
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
