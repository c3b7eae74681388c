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
    halo: radius + 1,
    compute({ lum, width, rows }: MeasureInput, out: Float32Array): void {
      if (tmp.length < width * rows) tmp = new Float32Array(width * rows);
      const lastX = width - 1;
      for (let y = 0; y < rows; y++) {
        const row = y * width;
        // Band edges replicate their row: those rows are halo and get discarded by the caller.
        const up = (y === 0 ? 0 : y - 1) * width;
        const down = (y === rows - 1 ? y : y + 1) * width;
        for (let x = 0; x < width; x++) {
          const c = lum[row + x];
          const l = lum[row + (x === 0 ? 0 : x - 1)];
          const r = lum[row + (x === lastX ? lastX : x + 1)];
          const lap = 4 * c - l - r - lum[up + x] - lum[down + x];
          out[row + x] = lap * lap;
        }
      }
      boxMeanInPlace(out, width, rows, radius, tmp);
    },
  };
}
