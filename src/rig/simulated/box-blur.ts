// Gaussian blur of image planes at any sigma in O(1) per pixel (extended boxes), and the row-loader
// interface that lets a blur read a scene's texture in place instead of copying it out first.

/** Fills row[offset .. offset + w) with image row y of some plane; lets blurs read the texture in place. */
export type RowLoader = (y: number, row: Float64Array, offset: number) => void;

/** Rows of a w×h plane. */
export function planeLoader(plane: Float32Array, w: number): RowLoader {
  return (y, row, offset) => {
    for (let x = 0, i = y * w; x < w; x++, i++) row[offset + x] = plane[i];
  };
}

/** Extended box of variance v (Gwosdek et al. 2011): integer radius r plus fractional end taps alpha. */
function boxFor(v: number): { r: number; alpha: number; norm: number } {
  const r = Math.floor((Math.sqrt(1 + 12 * v) - 1) / 2);
  const alpha = ((2 * r + 1) * (v - (r * (r + 1)) / 3)) / (2 * ((r + 1) ** 2 - v));
  return { r, alpha, norm: 1 / (2 * r + 1 + 2 * alpha) };
}

/**
 * Approximate gaussian blur, O(1) per pixel at any sigma: three successive box filters per axis (one below
 * 0.8 px, where a 3-tap kernel already fits) with running sums and replicated edges. The boxes have
 * fractional end taps so the variance is exactly sigma², even for sub-pixel sigmas integer boxes miss.
 * Reads the w×h source through `load`, works in `a` and `b`, returns whichever holds the result.
 */
export function blurRows(
  load: RowLoader,
  w: number,
  h: number,
  sigma: number,
  a: Float32Array,
  b: Float32Array,
) {
  const passes = sigma <= 0 ? 0 : sigma <= 0.8 ? 1 : 3;
  const { r, alpha, norm } = boxFor(passes ? (sigma * sigma) / passes : 0);
  const pad = r + 1;
  let [p, q] = [new Float64Array(w + 2 * pad), new Float64Array(w + 2 * pad)];
  for (let y = 0; y < h; y++) {
    load(y, p, pad);
    for (let pass = 0; pass < passes; pass++) {
      p.fill(p[pad], 0, pad);
      p.fill(p[pad + w - 1], pad + w);
      let s = 0;
      for (let k = -r; k <= r; k++) s += p[pad + k];
      for (let c = pad; c < pad + w; c++) {
        const next = p[c + r + 1];
        q[c] = (s + alpha * (p[c - r - 1] + next)) * norm;
        s += next - p[c - r];
      }
      [p, q] = [q, p];
    }
    for (let x = 0, o = y * w; x < w; x++) a[o + x] = p[pad + x];
  }
  // Vertical passes slide whole rows, so memory is walked in order instead of striding down columns.
  const acc = new Float64Array(w);
  const row = (y: number) => (y < 0 ? 0 : y >= h ? h - 1 : y) * w;
  let [src, dst] = [a, b];
  for (let pass = 0; pass < passes; pass++) {
    acc.fill(0);
    for (let k = -r; k <= r; k++) {
      for (let x = 0, o = row(k); x < w; x++) acc[x] += src[o + x];
    }
    for (let y = 0; y < h; y++) {
      const [out, far, next, leave] = [y * w, row(y - r - 1), row(y + r + 1), row(y - r)];
      for (let x = 0; x < w; x++) {
        const v = src[next + x];
        dst[out + x] = (acc[x] + alpha * (src[far + x] + v)) * norm;
        acc[x] += v - src[leave + x];
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** Gaussian-blurred copy of a w×h plane (see blurRows for the method); the input is left untouched. */
export function blurPlane(plane: Float32Array, w: number, h: number, sigma: number): Float32Array {
  return blurRows(planeLoader(plane, w), w, h, sigma, new Float32Array(w * h), new Float32Array(w * h));
}

export interface Coarse {
  data: Float32Array;
  w: number;
  h: number;
  /** Shrink factor: cell j is centred on full-res f·j + (f − 1)/2. */
  f: number;
}

/** Means of k×k cells (partial at the right and bottom edges) of a w×h source, as a plane k times smaller. */
export function shrink(load: RowLoader, w: number, h: number, k: number, f: number): Coarse {
  const [cw, ch] = [Math.ceil(w / k), Math.ceil(h / k)];
  const data = new Float32Array(cw * ch);
  const row = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    load(y, row, 0);
    for (let x = 0, o = ((y / k) | 0) * cw; x < w; x++) data[o + ((x / k) | 0)] += row[x];
  }
  for (let j = 0; j < ch; j++) {
    for (let i = 0; i < cw; i++) data[j * cw + i] /= Math.min(k, w - i * k) * Math.min(k, h - j * k);
  }
  return { data, w: cw, h: ch, f };
}

/**
 * Blurs of 3 px and up are computed on the texture shrunk by f (cost / f²) and interpolated back: shrinking
 * by f×f cells adds variance (f² − 1)/12 and bilinear interpolation about f²/6, both taken off the coarse
 * blur. Coarse blurs stay ≥ 1.4 coarse px, smooth enough that interpolation artefacts stay around 1 % (at
 * 2 px they reached 3 %: too much false fine detail that near focus, so 2 px stays full-res). The
 * coarse levels replicate edge cells rather than edge pixels, which differs within ~2σ of the border.
 */
export function shrinkFactor(sigma: number): number {
  return sigma < 3 ? 1 : sigma < 6 ? 2 : sigma < 12 ? 4 : 8;
}

/** The blur left to apply on a plane shrunk by f (coarse px) so that, upsampled bilinearly, it totals sigma. */
export function coarseSigma(sigma: number, f: number): number {
  return Math.sqrt(Math.max(0, sigma * sigma - (f * f - 1) / 12 - (f * f) / 6)) / f;
}
