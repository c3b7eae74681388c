// Reduces a full-size depth map to the 3D view's grid and fills where the stack had no say: cell
// means, then a confidence-weighted blur that replaces the doubtful cells (flat, textureless areas).

export interface Grid {
  width: number;
  height: number;
  data: Float32Array;
}

/** Mean of each cell of a `width`×`height` map, on a `gx`×`gy` grid (cells about equal). */
export function cellMeans(
  values: ArrayLike<number>,
  width: number,
  height: number,
  gx: number,
  gy: number,
  scale = 1,
): Grid {
  const sums = new Float64Array(gx * gy);
  const counts = new Uint32Array(gx * gy);
  for (let y = 0; y < height; y++) {
    const row = Math.min(gy - 1, Math.floor((y * gy) / height)) * gx;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.min(gx - 1, Math.floor((x * gx) / width));
      sums[cell] += values[y * width + x];
      counts[cell]++;
    }
  }
  const data = new Float32Array(gx * gy);
  for (let i = 0; i < data.length; i++) data[i] = counts[i] ? (sums[i] / counts[i]) * scale : 0;
  return { width: gx, height: gy, data };
}

/** How much a confidence (0–255) is trusted: the stacker's own easing, smoothstep from 96 to 160. */
export function trust(confidence: number): number {
  const t = Math.min(1, Math.max(0, (confidence - 96) / 64));
  return t * t * (3 - 2 * t);
}

/**
 * Each cell becomes `w·own + (1 − w)·(weighted mean of its neighbourhood)`, the neighbours weighted
 * by their own trust: doubtful cells take the depth of the trusted ones around them. `radius` in cells.
 */
export function fillDoubtful(depth: Grid, weights: Float32Array, radius = 4): Float32Array {
  const { width: w, height: h, data } = depth;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let sum = 0;
      let weight = 0;
      for (let v = Math.max(0, y - radius); v <= Math.min(h - 1, y + radius); v++)
        for (let u = Math.max(0, x - radius); u <= Math.min(w - 1, x + radius); u++) {
          const k = v * w + u;
          sum += data[k] * weights[k];
          weight += weights[k];
        }
      const around = weight > 1e-6 ? sum / weight : data[i];
      out[i] = weights[i] * data[i] + (1 - weights[i]) * around;
    }
  return out;
}
