// Focus measure `tenengrad`: local energy of the Sobel gradient of luminance (Tenenbaum 1970).
// Less sensitive to pixel noise than the Laplacian, a little less precise at fine detail.
import type { FocusMeasure } from '../types.js';
import { createWindowedEnergyMeasure } from './windowed-energy.js';

export function sobelEnergy(lum: Float32Array, width: number, rows: number, out: Float32Array): void {
  const lastX = width - 1;
  for (let y = 0; y < rows; y++) {
    const row = y * width;
    const up = (y === 0 ? 0 : y - 1) * width;
    const down = (y === rows - 1 ? y : y + 1) * width;
    for (let x = 0; x < width; x++) {
      const xl = x === 0 ? 0 : x - 1;
      const xr = x === lastX ? lastX : x + 1;
      const gx =
        lum[up + xr] + 2 * lum[row + xr] + lum[down + xr] - lum[up + xl] - 2 * lum[row + xl] - lum[down + xl];
      const gy =
        lum[down + xl] + 2 * lum[down + x] + lum[down + xr] - lum[up + xl] - 2 * lum[up + x] - lum[up + xr];
      out[row + x] = gx * gx + gy * gy;
    }
  }
}

export function createTenengradMeasure(opts: { windowRadius?: number } = {}): FocusMeasure {
  return createWindowedEnergyMeasure('tenengrad', sobelEnergy, opts.windowRadius);
}
