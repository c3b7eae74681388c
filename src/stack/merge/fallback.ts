// Where no frame is decisively sharper than the others (a specimen's defocused interior, flat
// background), a winner is a coin toss between frames that differ in brightness, blur and position:
// the blotches ("bubbles") the original experiment showed. There the result eases, by confidence,
// to the mean of all frames, which has no detail to lose and no seams between choices.

/** Below this confidence (0–255) a pixel shows the mean of the frames; above FULL, the merge alone. */
export const FALLBACK_START = 96;
export const FALLBACK_FULL = 160;

/** Adds the mean colour of each cell of cell rows [start, end) to `sum` (per cell, per channel). */
export function accumulateCellColour(
  frame: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  cell: number,
  start: number,
  end: number,
  sum: Float32Array,
): void {
  const cellsWide = Math.ceil(width / cell);
  const lastY = height - 1;
  const norm = 1 / (cell * cell);
  const rowLen = width * channels;
  // Columns of a cell past the right edge repeat the last column, as the luminance bins do.
  const fullCells = Math.floor(width / cell);
  for (let cy = start; cy < end; cy++) {
    const o = cy * cellsWide * channels;
    for (let dy = 0; dy < cell; dy++) {
      const r = Math.min(lastY, cy * cell + dy) * rowLen;
      for (let cx = 0, s = r, t = o; cx < fullCells; cx++, t += channels) {
        for (let dx = 0; dx < cell; dx++, s += channels) {
          for (let c = 0; c < channels; c++) sum[t + c] += frame[s + c] * norm;
        }
      }
      if (fullCells < cellsWide) {
        const t = o + fullCells * channels;
        const lastPixel = r + (width - 1) * channels;
        for (let dx = 0; dx < cell; dx++) {
          const s = Math.min(lastPixel, r + (fullCells * cell + dx) * channels);
          for (let c = 0; c < channels; c++) sum[t + c] += frame[s + c] * norm;
        }
      }
    }
  }
}

/**
 * Pixel rows [start, end): image := w·image + (1 − w)·mean, w from the (full-resolution) confidence,
 * the mean taken bilinearly between cell centres. `meanRow` holds cellsWide × channels floats.
 */
export function blendFallbackRows(
  image: Uint8Array | Uint16Array,
  confidence: Uint8Array,
  sum: Float32Array,
  frames: number,
  width: number,
  height: number,
  channels: number,
  cell: number,
  start: number,
  end: number,
  meanRow: Float32Array,
): void {
  const cellsWide = Math.ceil(width / cell);
  const cellsHigh = Math.ceil(height / cell);
  const centre = (cell - 1) / 2;
  const span = FALLBACK_FULL - FALLBACK_START;
  const inv = 1 / frames;
  const rowLen = cellsWide * channels;
  for (let y = start; y < end; y++) {
    const fy = Math.min(cellsHigh - 1, Math.max(0, (y - centre) / cell));
    const y0 = Math.floor(fy);
    const y1 = Math.min(cellsHigh - 1, y0 + 1);
    const wy = fy - y0;
    let rowReady = false;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const c = confidence[p];
      if (c >= FALLBACK_FULL) continue;
      if (!rowReady) {
        // The mean's row between the two cell rows, made once per pixel row that needs it.
        for (let i = 0, a = y0 * rowLen, b = y1 * rowLen; i < rowLen; i++) {
          meanRow[i] = (sum[a + i] + (sum[b + i] - sum[a + i]) * wy) * inv;
        }
        rowReady = true;
      }
      const t = c <= FALLBACK_START ? 0 : (c - FALLBACK_START) / span;
      const w = t * t * (3 - 2 * t); // smoothstep: no visible edge where the fallback begins
      const fx = Math.min(cellsWide - 1, Math.max(0, (x - centre) / cell));
      const x0 = Math.floor(fx);
      const x1 = Math.min(cellsWide - 1, x0 + 1);
      const wx = fx - x0;
      for (let ch = 0; ch < channels; ch++) {
        const a = meanRow[x0 * channels + ch];
        const mean = a + (meanRow[x1 * channels + ch] - a) * wx;
        const o = p * channels + ch;
        image[o] = (w * image[o] + (1 - w) * mean + 0.5) | 0;
      }
    }
  }
}

/** Radius of the box that evens out the confidence: single noisy cells must not punch through the fallback. */
export const CONFIDENCE_SMOOTHING_RADIUS = 2;

/** Rows [start, end) of `out` := box mean of `confidence` (cells, edges replicated). */
export function smoothConfidenceRows(
  confidence: Uint8Array,
  cellsWide: number,
  cellsHigh: number,
  start: number,
  end: number,
  out: Uint8Array,
  column: Float32Array,
): void {
  const r = CONFIDENCE_SMOOTHING_RADIUS;
  const norm = 1 / ((2 * r + 1) * (2 * r + 1));
  const last = cellsWide - 1;
  for (let y = start; y < end; y++) {
    column.fill(0, 0, cellsWide);
    for (let dy = -r; dy <= r; dy++) {
      const row = Math.min(cellsHigh - 1, Math.max(0, y + dy)) * cellsWide;
      for (let x = 0; x < cellsWide; x++) column[x] += confidence[row + x];
    }
    let sum = 0;
    for (let dx = -r; dx <= r; dx++) sum += column[Math.min(last, Math.max(0, dx))];
    for (let x = 0; x < cellsWide; x++) {
      out[y * cellsWide + x] = Math.round(sum * norm);
      sum += column[Math.min(last, x + r + 1)] - column[Math.max(0, x - r)];
    }
  }
}
