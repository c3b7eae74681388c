// Fills the holes of a map (cells without a trusted value) from the trusted cells around them, by
// push-pull interpolation (Gortler et al., "The Lumigraph", SIGGRAPH 1996, §3.3): weighted means are
// pushed down a pyramid until every cell has one, then pulled back up into the holes. Cost is linear
// in the cells, however large a hole; trusted cells keep their value exactly. A few over-relaxed
// Laplace sweeps then take the fill towards the membrane (harmonic) one, which continues a slope
// across a hole instead of sagging towards the hole's mean.

interface Level {
  w: number;
  h: number;
  value: Float32Array;
  /** 0 = unknown … 1 = fully known. */
  weight: Float32Array;
}

/** Taps of the reduction kernel ([1 3 3 1] / 8 per axis): smoother than 2×2 boxes, no blocky fills. */
const TAPS = [1 / 8, 3 / 8, 3 / 8, 1 / 8];

/** Halves a level: each cell the weighted mean of the 4×4 children around it, weight clamped to 1. */
function push(level: Level): Level {
  const w = Math.ceil(level.w / 2);
  const h = Math.ceil(level.h / 2);
  const value = new Float32Array(w * h);
  const weight = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sw = 0;
      let swv = 0;
      let taps = 0;
      for (let dy = 0; dy < 4; dy++) {
        const sy = 2 * y - 1 + dy;
        if (sy < 0 || sy >= level.h) continue;
        for (let dx = 0; dx < 4; dx++) {
          const sx = 2 * x - 1 + dx;
          if (sx < 0 || sx >= level.w) continue;
          const k = TAPS[dy] * TAPS[dx];
          const i = sy * level.w + sx;
          sw += k * level.weight[i];
          swv += k * level.weight[i] * level.value[i];
          taps += k;
        }
      }
      const o = y * w + x;
      value[o] = sw > 0 ? swv / sw : 0;
      // ×4: a cell stands for four children; a fully known neighbourhood gives weight 1 or more.
      weight[o] = Math.min(1, (4 * sw) / taps);
    }
  }
  return { w, h, value, weight };
}

/** Bilinear sample of a coarser level at the centre of cell (x, y) of the finer one. */
function upsampled(coarse: Level, x: number, y: number): number {
  const u = Math.min(Math.max((x + 0.5) / 2 - 0.5, 0), coarse.w - 1);
  const v = Math.min(Math.max((y + 0.5) / 2 - 0.5, 0), coarse.h - 1);
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const x1 = Math.min(x0 + 1, coarse.w - 1);
  const y1 = Math.min(y0 + 1, coarse.h - 1);
  const fx = u - x0;
  const fy = v - y0;
  const c = coarse.value;
  const top = c[y0 * coarse.w + x0] + (c[y0 * coarse.w + x1] - c[y0 * coarse.w + x0]) * fx;
  const bottom = c[y1 * coarse.w + x0] + (c[y1 * coarse.w + x1] - c[y1 * coarse.w + x0]) * fx;
  return top + (bottom - top) * fy;
}

/** Over-relaxation factor and sweeps: enough to straighten holes some 50 cells across, bounded in cost. */
const OMEGA = 1.8;
export const RELAX_SWEEPS = 64;

/** Successive over-relaxation of Laplace's equation on the unknown cells; known cells stay fixed. */
function relax(values: Float32Array, known: Uint8Array, w: number, h: number, sweeps: number): void {
  const holes: number[] = [];
  for (let i = 0; i < known.length; i++) if (!known[i]) holes.push(i);
  for (let s = 0; s < sweeps; s++) {
    for (const i of holes) {
      const x = i % w;
      let sum = 0;
      let n = 0;
      // Missing neighbours past the border: a reflecting (zero-slope) edge.
      if (x > 0) {
        sum += values[i - 1];
        n++;
      }
      if (x < w - 1) {
        sum += values[i + 1];
        n++;
      }
      if (i >= w) {
        sum += values[i - w];
        n++;
      }
      if (i < (h - 1) * w) {
        sum += values[i + w];
        n++;
      }
      values[i] += OMEGA * (sum / n - values[i]);
    }
  }
}

/**
 * Replaces `values` where `known` is 0 by an interpolation of the known cells, weighted by `weight`
 * (confidence). Returns false, changing nothing, when no cell is known.
 */
export function fillHoles(
  values: Float32Array,
  known: Uint8Array,
  weight: Float32Array,
  width: number,
  height: number,
): boolean {
  const n = width * height;
  const w0 = new Float32Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    if (known[i]) {
      // A known cell never has zero weight, or the pyramid would forget it.
      w0[i] = Math.max(weight[i], 1e-3);
      any = true;
    }
  }
  if (!any) return false;
  const levels: Level[] = [{ w: width, h: height, value: values, weight: w0 }];
  while (levels[levels.length - 1].w > 1 || levels[levels.length - 1].h > 1)
    levels.push(push(levels[levels.length - 1]));
  // Pull: each level blends its own (partial) knowledge with the filled level above it.
  for (let k = levels.length - 2; k >= 0; k--) {
    const fine = levels[k];
    const coarse = levels[k + 1];
    for (let y = 0; y < fine.h; y++) {
      for (let x = 0; x < fine.w; x++) {
        const i = y * fine.w + x;
        if (k === 0) {
          if (!known[i]) fine.value[i] = upsampled(coarse, x, y);
        } else {
          const a = fine.weight[i];
          if (a < 1) fine.value[i] = a * fine.value[i] + (1 - a) * upsampled(coarse, x, y);
        }
      }
    }
  }
  relax(values, known, width, height, RELAX_SWEEPS);
  return true;
}
