// Edge-preserving smoothing of a height map guided by the stacked image: the guided filter (He, Sun
// and Tang, "Guided Image Filtering", ECCV 2010 / PAMI 2013). Within each window the output is a
// linear function of the guide, so a height step that coincides with an edge of the image survives,
// while height noise the image does not explain is averaged away. Box sums make it O(cells).

/** out := mean of `src` over the (2r+1)² window, clipped at the edges (divided by the cells inside). */
export function boxMean(src: Float32Array, w: number, h: number, r: number, out: Float32Array): void {
  const tmp = new Float32Array(w * h);
  // Rows, then columns: two running sums of doubles keep the cost independent of r without drift.
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[o + x];
    for (let x = 0; x < w; x++) {
      const lo = Math.max(0, x - r);
      const hi = Math.min(w - 1, x + r);
      tmp[o + x] = sum / (hi - lo + 1);
      if (x + r + 1 < w) sum += src[o + x + r + 1];
      if (x - r >= 0) sum -= src[o + x - r];
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x];
    for (let y = 0; y < h; y++) {
      const lo = Math.max(0, y - r);
      const hi = Math.min(h - 1, y + r);
      out[y * w + x] = sum / (hi - lo + 1);
      if (y + r + 1 < h) sum += tmp[(y + r + 1) * w + x];
      if (y - r >= 0) sum -= tmp[(y - r) * w + x];
    }
  }
}

export interface GuidedFilterOptions {
  /** Window radius in cells. */
  radius: number;
  /**
   * Regularisation, in squared guide units (guide 0–1): image contrast below √eps counts as flat and
   * is smoothed across; above, height follows the image's edges.
   */
  eps: number;
}

/** Smooths `p` (in place) guided by `guide`, both w×h. */
export function guidedFilter(
  p: Float32Array,
  guide: Float32Array,
  w: number,
  h: number,
  { radius, eps }: GuidedFilterOptions,
): void {
  if (radius < 1) return;
  const n = w * h;
  const meanI = new Float32Array(n);
  const meanP = new Float32Array(n);
  const corrIP = new Float32Array(n);
  const corrII = new Float32Array(n);
  const scratch = new Float32Array(n);
  // Heights are centred first: box sums of large µm values would lose float32 digits in cov(I, p).
  let offset = 0;
  for (let i = 0; i < n; i++) offset += p[i];
  offset /= n;
  for (let i = 0; i < n; i++) p[i] -= offset;
  boxMean(guide, w, h, radius, meanI);
  boxMean(p, w, h, radius, meanP);
  for (let i = 0; i < n; i++) scratch[i] = guide[i] * p[i];
  boxMean(scratch, w, h, radius, corrIP);
  for (let i = 0; i < n; i++) scratch[i] = guide[i] * guide[i];
  boxMean(scratch, w, h, radius, corrII);
  // a and b overwrite the correlation buffers: corrIP becomes a, meanP becomes b.
  for (let i = 0; i < n; i++) {
    const variance = corrII[i] - meanI[i] * meanI[i];
    const a = (corrIP[i] - meanI[i] * meanP[i]) / (variance + eps);
    corrIP[i] = a;
    meanP[i] = meanP[i] - a * meanI[i];
  }
  boxMean(corrIP, w, h, radius, corrII);
  boxMean(meanP, w, h, radius, scratch);
  for (let i = 0; i < n; i++) p[i] = corrII[i] * guide[i] + scratch[i] + offset;
}
