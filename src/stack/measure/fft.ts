// Frequency-domain focus measure of De & Masilamani 2013, "Image Sharpness Measure for Blurred Images in
// Frequency Domain" (Procedia Engineering 64): evaluated on a coarse image-aligned grid, then interpolated.
import FFT from 'fft.js';
import type { FocusMeasure, MeasureInput } from '../types.js';

/** Side of the square window each grid score is computed over; must be a power of two (fft.js). */
export const DEFAULT_FFT_WINDOW_SIZE = 16;
/** Grid spacing when `stride` is omitted: half a window, so neighbouring windows overlap 50 %. */
export const DEFAULT_FFT_STRIDE = DEFAULT_FFT_WINDOW_SIZE / 2;
/** Default stride for a non-default window size, same half-window rule as {@link DEFAULT_FFT_STRIDE}. */
export const defaultFftStride = (windowSize: number): number => Math.max(1, windowSize >> 1);
/** The paper's threshold: a coefficient counts when its magnitude exceeds max magnitude / 1000. */
export const DE_MASILAMANI_THRESHOLD_RATIO = 1000;

export interface FftMeasureOptions {
  /** Window side in pixels, power of two ≥ 2. Default {@link DEFAULT_FFT_WINDOW_SIZE}. */
  windowSize?: number;
  /** Grid spacing in pixels, 1..windowSize. Default {@link defaultFftStride}(windowSize). */
  stride?: number;
}

/** Reusable buffers for one window size, so scoring a window never allocates. */
export interface FftScratch {
  readonly size: number;
  readonly fft: FFT;
  readonly rowIn: Float64Array;
  readonly rowOut: Float64Array;
  /** Row-transformed data stored column-major: cols[k] is column k (0..size/2) as interleaved complex. */
  readonly cols: Float64Array[];
  readonly colOut: Float64Array;
  /** |F|² of the half spectrum, power[k * size + v]. */
  readonly power: Float64Array;
}

function checkWindowSize(size: number): void {
  if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
    throw new RangeError(`fft measure: windowSize must be a power of two ≥ 2, got ${size}`);
  }
}

export function createFftScratch(size: number): FftScratch {
  checkWindowSize(size);
  const half = (size >> 1) + 1;
  const cols: Float64Array[] = [];
  for (let k = 0; k < half; k++) cols.push(new Float64Array(2 * size));
  return {
    size,
    fft: new FFT(size),
    rowIn: new Float64Array(size),
    rowOut: new Float64Array(2 * size),
    cols,
    colOut: new Float64Array(2 * size),
    power: new Float64Array(half * size),
  };
}

/**
 * De & Masilamani's FM for one size×size window (row-major): TH / (size²), where TH counts the
 * coefficients of the full 2-D spectrum whose magnitude exceeds max|F| / 1000.
 *
 * Faithful to the paper: the window mean is NOT subtracted, so for non-negative luminance the DC term
 * is the maximum (|F(u,v)| ≤ ΣI = F(0,0)) and the threshold scales with brightness. A flat non-zero
 * window therefore scores exactly 1/size² (only DC counts), an all-black window 0 (nothing exceeds 0).
 * Nor is the window tapered, also as in the paper, so edge discontinuities leak into the count.
 */
export function deMasilamaniScore(
  window: ArrayLike<number>,
  size: number,
  scratch: FftScratch = createFftScratch(size),
): number {
  if (scratch.size !== size) throw new RangeError(`fft measure: scratch is for size ${scratch.size}`);
  if (window.length < size * size) throw new RangeError('fft measure: window shorter than size²');
  const { fft, rowIn, rowOut, cols } = scratch;
  const halfN = size >> 1;
  for (let y = 0; y < size; y++) {
    const base = y * size;
    for (let x = 0; x < size; x++) rowIn[x] = window[base + x];
    // realTransform fills bins 0..size/2, exactly the half the column pass needs.
    fft.realTransform(rowOut, rowIn);
    for (let k = 0; k <= halfN; k++) {
      const col = cols[k];
      col[2 * y] = rowOut[2 * k];
      col[2 * y + 1] = rowOut[2 * k + 1];
    }
  }
  return columnPassScore(scratch);
}

/**
 * Finishes the 2-D transform from row spectra already in `scratch.cols` and applies the threshold.
 * Only columns 0..size/2 are transformed: for real input F(v, N−k) = conj(F(−v, k)), so column N−k
 * holds the same magnitudes as column k and is counted by weighting column k twice. The paper's
 * fftshift only reorders coefficients, changing neither max nor count, so it is skipped; magnitudes
 * are compared squared to save a sqrt per coefficient.
 */
function columnPassScore(scratch: FftScratch): number {
  const { size, fft, cols, colOut, power } = scratch;
  const halfN = size >> 1;
  let maxPower = 0;
  for (let k = 0; k <= halfN; k++) {
    fft.transform(colOut, cols[k]);
    const base = k * size;
    for (let v = 0; v < size; v++) {
      const re = colOut[2 * v];
      const im = colOut[2 * v + 1];
      const p = re * re + im * im;
      power[base + v] = p;
      if (p > maxPower) maxPower = p;
    }
  }

  const limit = maxPower / (DE_MASILAMANI_THRESHOLD_RATIO * DE_MASILAMANI_THRESHOLD_RATIO);
  let count = 0;
  for (let k = 0; k <= halfN; k++) {
    const base = k * size;
    let c = 0;
    for (let v = 0; v < size; v++) if (power[base + v] > limit) c++;
    count += k === 0 || k === halfN ? c : 2 * c;
  }
  return count / (size * size);
}

/**
 * Scores windows centred on image pixels (j·stride, g·stride) and bilinearly interpolates them to
 * every pixel. The per-pixel sliding FFT of the original is ~stride² times slower; the grid keeps the
 * paper's per-window score while bounding work to one FFT2 per stride² pixels. Because grid rows are
 * multiples of `stride` in IMAGE coordinates, bands of one image agree wherever rows have `halo` context.
 */
export function createFftMeasure(opts: FftMeasureOptions = {}): FocusMeasure {
  const size = opts.windowSize ?? DEFAULT_FFT_WINDOW_SIZE;
  checkWindowSize(size);
  const stride = opts.stride ?? defaultFftStride(size);
  if (!Number.isInteger(stride) || stride < 1 || stride > size) {
    throw new RangeError(`fft measure: stride must be an integer in 1..${size}, got ${stride}`);
  }
  const halfW = size >> 1;
  // Interpolating row Y reads grid rows ≤ stride−1 away whose windows reach halfW further; one spare
  // row keeps the documented windowSize/2 + stride contract.
  const halo = halfW + stride;
  const scratch = createFftScratch(size);
  const { fft, rowIn, rowOut, cols } = scratch;
  const spectrumLen = 2 * (halfW + 1);

  // Vertically adjacent grid rows share size − stride window rows, and a window row's spectrum does
  // not depend on which window it is in, so row spectra are cached per band row: a direct-mapped ring
  // of `size` slots suffices because one window's rows are a contiguous range of ≤ size band rows.
  const ringKeys = new Float64Array(size);
  const ring: Float64Array[] = [];
  const windowRows: Float64Array[] = new Array<Float64Array>(size);

  // Per-width buffers are rebuilt only when the width changes, so steady-state calls allocate nothing.
  let capWidth = -1;
  let gridCols = 0;
  let col0 = new Int32Array(0);
  let col1 = new Int32Array(0);
  let colT = new Float64Array(0);
  let slotA = new Float64Array(0);
  let slotB = new Float64Array(0);
  let blend = new Float64Array(0);

  function prepareWidth(width: number): void {
    if (width === capWidth) return;
    capWidth = width;
    // Grid columns at 0, stride, … up to the first one at or past the last pixel.
    gridCols = Math.ceil((width - 1) / stride) + 1;
    col0 = new Int32Array(width);
    col1 = new Int32Array(width);
    colT = new Float64Array(width);
    for (let x = 0; x < width; x++) {
      const j = Math.floor(x / stride);
      col0[x] = j;
      col1[x] = Math.min(j + 1, gridCols - 1);
      colT[x] = (x - j * stride) / stride;
    }
    slotA = new Float64Array(gridCols);
    slotB = new Float64Array(gridCols);
    blend = new Float64Array(gridCols);
    ring.length = 0;
    for (let i = 0; i < size; i++) ring.push(new Float64Array(gridCols * spectrumLen));
  }

  /** Half spectra (bins 0..size/2) of every grid column's segment of band row `by`. */
  function rowSpectra(lum: Float32Array, width: number, by: number): Float64Array {
    const slot = by & (size - 1);
    const dst = ring[slot];
    if (ringKeys[slot] === by) return dst;
    const src = by * width;
    for (let j = 0; j < gridCols; j++) {
      const x0 = j * stride - halfW;
      if (x0 >= 0 && x0 + size <= width) {
        for (let c = 0; c < size; c++) rowIn[c] = lum[src + x0 + c];
      } else {
        for (let c = 0; c < size; c++) {
          const x = x0 + c;
          rowIn[c] = lum[src + (x < 0 ? 0 : x >= width ? width - 1 : x)];
        }
      }
      fft.realTransform(rowOut, rowIn);
      const o = j * spectrumLen;
      for (let i = 0; i < spectrumLen; i++) dst[o + i] = rowOut[i];
    }
    ringKeys[slot] = by;
    return dst;
  }

  /** Scores every grid column of the grid row centred on band row `centre` (rows clamped to the band). */
  function scoreGridRow(lum: Float32Array, width: number, rows: number, centre: number, dst: Float64Array) {
    for (let r = 0; r < size; r++) {
      const by = centre - halfW + r;
      windowRows[r] = rowSpectra(lum, width, by < 0 ? 0 : by >= rows ? rows - 1 : by);
    }
    for (let j = 0; j < gridCols; j++) {
      const o = j * spectrumLen;
      for (let k = 0; k <= halfW; k++) {
        const col = cols[k];
        for (let r = 0; r < size; r++) {
          const spec = windowRows[r];
          col[2 * r] = spec[o + 2 * k];
          col[2 * r + 1] = spec[o + 2 * k + 1];
        }
      }
      dst[j] = columnPassScore(scratch);
    }
  }

  function compute(input: MeasureInput, out: Float32Array): void {
    const { lum, width, rows, firstRow } = input;
    if (width <= 0 || rows <= 0) return;
    if (lum.length < width * rows || out.length < width * rows) {
      throw new RangeError('fft measure: lum/out shorter than width × rows');
    }
    prepareWidth(width);
    ringKeys.fill(-1);

    // Two cached grid rows; rows are visited in increasing order so at most g and g+1 are live.
    let keyA = Number.NaN;
    let keyB = Number.NaN;
    const gridRow = (g: number, keep: number): Float64Array => {
      if (keyA === g) return slotA;
      if (keyB === g) return slotB;
      const useA = keyA !== keep;
      const dst = useA ? slotA : slotB;
      scoreGridRow(lum, width, rows, g * stride - firstRow, dst);
      if (useA) keyA = g;
      else keyB = g;
      return dst;
    };

    // Locals, not the reassignable closure slots, so the per-pixel loop stays in registers.
    const c0 = col0;
    const c1 = col1;
    const ct = colT;
    const mix = blend;
    const nGrid = gridCols;
    for (let y = 0; y < rows; y++) {
      const imageRow = firstRow + y;
      const g = Math.floor(imageRow / stride);
      const ty = (imageRow - g * stride) / stride;
      const lo = gridRow(g, g + 1);
      if (ty > 0) {
        const hi = gridRow(g + 1, g);
        for (let j = 0; j < nGrid; j++) mix[j] = (1 - ty) * lo[j] + ty * hi[j];
      } else {
        mix.set(lo);
      }
      const o = y * width;
      for (let x = 0; x < width; x++) {
        const t = ct[x];
        out[o + x] = (1 - t) * mix[c0[x]] + t * mix[c1[x]];
      }
    }
  }

  // The coefficient count falls slowly with defocus (a blurred window keeps many coefficients above
  // max/1000): a steep exponent puts its confidence on the energy measures' scale (calibrated on the
  // synthetic scenes: 4 gives the same median confidence as the Laplacian there).
  return { name: 'fft', halo, confidenceExponent: 4, compute };
}
