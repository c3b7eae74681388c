// Focus measure `laplacian`: local energy of the Laplacian of luminance (the default).
// Sum of squared 4-neighbour Laplacian over a (2r+1)² window; see Pertuz et al. 2013, "LAP2"-family.
import type { FocusMeasure, MeasureInput } from '../types.js';
import { boxMeanInPlace } from './box.js';

export const DEFAULT_WINDOW_RADIUS = 3;

export function createLaplacianMeasure(opts: { windowRadius?: number } = {}): FocusMeasure {
  const radius = opts.windowRadius ?? DEFAULT_WINDOW_RADIUS;
  let tmp = new Float32Array(0);
  return {
    name: 'laplacian',
    // Energy of a derivative: falls with the square of contrast, the scale the fallback was tuned on.
    confidenceExponent: 1,
    halo: radius + 1,
    compute({ lum, width, rows }: MeasureInput, out: Float32Array): void {
      if (tmp.length < width * rows) tmp = new Float32Array(width * rows);
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
      boxMeanInPlace(out, width, rows, radius, tmp);
    },
  };
}
