// Scoring a stacker on a synthetic stack: PSNR against the truth, and the baseline every stack
// must beat, the original experiment's rule (each pixel from the frame of largest |Laplacian|).
import type { Frame } from '../../stack/types.js';

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, max: number): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((max * max) / mse);
}

/**
 * PSNR over the w×h image less `margin` pixels on every side: the field every frame of a moving stack
 * saw (near the edges some frames never saw the content a still stack has in focus there).
 */
export function psnrInside(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  margin: number,
  max: number,
): number {
  let se = 0;
  let n = 0;
  for (let y = margin; y < h - margin; y++)
    for (let i = (y * w + margin) * channels; i < (y * w + w - margin) * channels; i++) {
      se += (a[i] - b[i]) ** 2;
      n++;
    }
  return se === 0 ? Infinity : 10 * Math.log10((max * max * n) / se);
}

/** Per pixel, the RGB of the frame with the largest |4-neighbour Laplacian| of luma: no window, no filter. */
export function naiveArgmax(frames: Frame[]): Uint8Array | Uint16Array {
  const { width: w, height: h, channels: ch } = frames[0];
  const best = new Float32Array(w * h).fill(-1);
  const out = frames[0].bitDepth === 16 ? new Uint16Array(w * h * ch) : new Uint8Array(w * h * ch);
  for (const f of frames) {
    const lum = (x: number, y: number) => {
      const p = (Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * ch;
      return ch === 3 ? 0.299 * f.data[p] + 0.587 * f.data[p + 1] + 0.114 * f.data[p + 2] : f.data[p];
    };
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const l = Math.abs(4 * lum(x, y) - lum(x - 1, y) - lum(x + 1, y) - lum(x, y - 1) - lum(x, y + 1));
        const p = y * w + x;
        if (l > best[p]) {
          best[p] = l;
          out.set(f.data.subarray(p * ch, p * ch + ch), p * ch);
        }
      }
  }
  return out;
}
