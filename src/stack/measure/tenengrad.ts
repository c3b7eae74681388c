// Focus measure `tenengrad`: local energy of the Sobel gradient of luminance (Tenenbaum 1970).
// Less sensitive to pixel noise than the Laplacian, a little less precise at fine detail.
import type { FocusMeasure, MeasureInput } from '../types.js';
import { boxMeanInPlace } from './box.js';
import { DEFAULT_WINDOW_RADIUS } from './laplacian.js';

export function createTenengradMeasure(opts: { windowRadius?: number } = {}): FocusMeasure {
  const radius = opts.windowRadius ?? DEFAULT_WINDOW_RADIUS;
  let tmp = new Float32Array(0);
  return {
    name: 'tenengrad',
    // Energy of a derivative: falls with the square of contrast, the scale the fallback was tuned on.
    confidenceExponent: 1,
    halo: radius + 1,
    compute({ lum, width, rows }: MeasureInput, out: Float32Array): void {
      if (tmp.length < width * rows) tmp = new Float32Array(width * rows);
      const lastX = width - 1;
      for (let y = 0; y < rows; y++) {
        const row = y * width;
        const up = (y === 0 ? 0 : y - 1) * width;
        const down = (y === rows - 1 ? y : y + 1) * width;
        for (let x = 0; x < width; x++) {
          const xl = x === 0 ? 0 : x - 1;
          const xr = x === lastX ? lastX : x + 1;
          const tl = lum[up + xl],
            tc = lum[up + x],
            tr = lum[up + xr];
          const ml = lum[row + xl],
            mr = lum[row + xr];
          const bl = lum[down + xl],
            bc = lum[down + x],
            br = lum[down + xr];
          const gx = tr + 2 * mr + br - tl - 2 * ml - bl;
          const gy = bl + 2 * bc + br - tl - 2 * tc - tr;
          out[row + x] = gx * gx + gy * gy;
        }
      }
      boxMeanInPlace(out, width, rows, radius, tmp);
    },
  };
}
