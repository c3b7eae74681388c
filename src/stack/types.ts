// Shared shapes of the stacking pipeline: frames in, results out, and the options that steer it.
// Everything here is plain typed arrays so the pipeline can run on worker threads without copies.

/** Interleaved pixels, row-major, `channels` samples per pixel (1 = grey, 3 = RGB). */
export interface Frame {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export type MeasureName = 'laplacian' | 'tenengrad' | 'fft';
export type MergeMethod = 'pyramid' | 'depthmap';

export const MEASURES: readonly MeasureName[] = ['laplacian', 'tenengrad', 'fft'];
export const METHODS: readonly MergeMethod[] = ['pyramid', 'depthmap'];

/** Rows of luminance handed to a focus measure; rows outside the image are replicated edge rows. */
export interface MeasureInput {
  lum: Float32Array;
  width: number;
  rows: number;
  /** Image row of `lum` row 0 (may be negative for replicated rows above the image). */
  firstRow: number;
}

export interface FocusMeasure {
  readonly name: MeasureName;
  /** Rows of context each output row needs above and below it to be exact. */
  readonly halo: number;
  /**
   * How the ratio of scores (other frames / best) maps to confidence: 1 − ratio^exponent. Measures
   * differ in how steeply they fall with defocus; the exponent puts their confidences on one scale,
   * so that the low-confidence fallback means the same whatever the measure.
   */
  readonly confidenceExponent: number;
  /** Writes one non-negative score per pixel (width × rows) into `out`; larger is sharper. */
  compute(input: MeasureInput, out: Float32Array): void;
}
