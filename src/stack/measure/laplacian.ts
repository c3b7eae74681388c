// Focus measure `laplacian` (the default): local energy of the 4-neighbour Laplacian of luminance,
// the "LAP2" family of Pertuz et al. 2013 ("Analysis of focus measure operators for shape-from-focus").
import type { FocusMeasure } from '../types.js';
import { SIMD_MAX_RADIUS, SimdLaplacianBoxMean } from './simd-laplacian.js';
import { createWindowedEnergyMeasure, DEFAULT_WINDOW_RADIUS } from './windowed-energy.js';

export function laplacianEnergy(lum: Float32Array, width: number, rows: number, out: Float32Array): void {
  const lastX = width - 1;
  for (let y = 0; y < rows; y++) {
    const row = y * width;
    // Band edges replicate their row: those rows are halo and get discarded by the caller.
    const up = (y === 0 ? 0 : y - 1) * width;
    const down = (y === rows - 1 ? y : y + 1) * width;
    // Interior columns without edge tests; the two edge columns replicate their neighbour.
    for (let x = 1; x < lastX; x++) {
      const p = row + x;
      const lap = 4 * lum[p] - lum[p - 1] - lum[p + 1] - lum[up + x] - lum[down + x];
      out[p] = lap * lap;
    }
    for (const x of lastX > 0 ? [0, lastX] : [0]) {
      const l = lum[row + (x === 0 ? 0 : x - 1)];
      const r = lum[row + (x === lastX ? lastX : x + 1)];
      const lap = 4 * lum[row + x] - l - r - lum[up + x] - lum[down + x];
      out[row + x] = lap * lap;
    }
  }
}

/** `simd: false` keeps the JavaScript loops (the definition; tests compare the two). */
export function createLaplacianMeasure(opts: { windowRadius?: number; simd?: boolean } = {}): FocusMeasure {
  const radius = opts.windowRadius ?? DEFAULT_WINDOW_RADIUS;
  const measure = createWindowedEnergyMeasure('laplacian', laplacianEnergy, radius);
  const simd = opts.simd !== false && radius <= SIMD_MAX_RADIUS ? SimdLaplacianBoxMean.create() : null;
  if (!simd) return measure;
  return {
    ...measure,
    compute({ lum, width, rows }, out) {
      simd.compute(lum, width, rows, radius, out);
    },
  };
}
