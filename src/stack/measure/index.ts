// Picks a focus measure by name; the one place that knows every measure.
import type { FocusMeasure, MeasureName } from '../types.js';
import { createFftMeasure } from './fft.js';
import { createLaplacianMeasure } from './laplacian.js';
import { createTenengradMeasure } from './tenengrad.js';

export interface MeasureOptions {
  /** laplacian/tenengrad: radius of the energy window in pixels. */
  windowRadius?: number;
  /** fft: FFT window size (power of two) and grid stride. */
  fftWindow?: number;
  fftStride?: number;
}

export function createMeasure(name: MeasureName, opts: MeasureOptions = {}): FocusMeasure {
  switch (name) {
    case 'laplacian':
      return createLaplacianMeasure({ windowRadius: opts.windowRadius });
    case 'tenengrad':
      return createTenengradMeasure({ windowRadius: opts.windowRadius });
    case 'fft':
      return createFftMeasure({ windowSize: opts.fftWindow, stride: opts.fftStride });
  }
}
