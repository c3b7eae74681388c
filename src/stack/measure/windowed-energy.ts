// The shape the `laplacian` and `tenengrad` measures share: a derivative's energy at every pixel,
// averaged over a (2r+1)² window so that a score describes a neighbourhood, not one noisy pixel.
import type { FocusMeasure, MeasureInput, MeasureName } from '../types.js';
import { boxMeanInPlace } from './box.js';

export const DEFAULT_WINDOW_RADIUS = 3;

/** Writes a derivative's squared magnitude at every pixel of `lum` (width × rows) into `out`; rows beyond the band replicate its edge. */
export type PointEnergy = (lum: Float32Array, width: number, rows: number, out: Float32Array) => void;

export function createWindowedEnergyMeasure(
  name: MeasureName,
  pointEnergy: PointEnergy,
  windowRadius: number = DEFAULT_WINDOW_RADIUS,
): FocusMeasure {
  let tmp = new Float32Array(0);
  return {
    name,
    // Energy of a derivative: falls with the square of contrast, the scale the fallback was tuned on.
    confidenceExponent: 1,
    // One row for the derivative, the window's radius for the mean.
    halo: windowRadius + 1,
    compute({ lum, width, rows }: MeasureInput, out: Float32Array): void {
      if (tmp.length < width * rows) tmp = new Float32Array(width * rows);
      pointEnergy(lum, width, rows, out);
      boxMeanInPlace(out, width, rows, windowRadius, tmp);
    },
  };
}
