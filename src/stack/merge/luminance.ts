// Luminance for the focus measures, read straight from an interleaved frame, optionally binned
// into cells of cell×cell pixels. Rows outside the image replicate the edge, so every row of cells
// gets a full neighbourhood.

import { SimdCellLuminance, type PixelLuma } from './simd-cells.js';

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

export interface LuminanceSource {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: 1 | 3;
  maxValue: number;
  /** Pixels per cell side (1 = per pixel, 2 = 2×2 bins). */
  cell: number;
}

/**
 * What the call's own rows (rows [from, to) of this call; the rest are a neighbour's halo) also yield:
 * each bin's mean colour added into `sum` (RGB bins of 2×2 and up) and, if `luma` is given, each pixel's
 * luma (0–1, width × height) where the SIMD kernels read the pixels anyway (see cellPassWritesLuma).
 */
export interface ColourAccumulator {
  sum: Float32Array;
  from: number;
  to: number;
  luma?: Float32Array | null;
}

/** Whether luminanceRows writes a frame's per-pixel luma when asked (else the caller computes it). */
export function cellPassWritesLuma(src: LuminanceSource): boolean {
  const { cell, channels, data } = src;
  return (cell === 2 || cell === 4) && channels === 3 && data instanceof Uint8Array && simdCells() !== null;
}

/**
 * Writes cell rows [firstRow, firstRow + rows) of luminance (0–1), ceil(width / cell) wide, into `out`.
 * Returns whether `colour` was served (RGB bins of 2×2 and up); its luma is, when cellPassWritesLuma.
 * Reading each pixel once for the cells, their colour and the pyramid's luma matters at 12 MP.
 */
export function luminanceRows(
  src: LuminanceSource,
  firstRow: number,
  rows: number,
  out: Float32Array,
  colour: ColourAccumulator | null = null,
): boolean {
  const { data, width, height, channels, maxValue, cell } = src;
  const cellRows = Math.ceil(height / cell);
  const cellsWide = Math.ceil(width / cell);
  const lastX = width - 1;
  const lastY = height - 1;
  // Weights fold in the 1/maxValue scaling and the 1/cell² mean of a bin.
  const k = 1 / (maxValue * cell * cell);
  const r = channels === 3 ? LUMA_R * k : k;
  const g = LUMA_G * k;
  const b = LUMA_B * k;
  const simdServes = cellPassWritesLuma(src);
  const pixelWeights: [number, number, number] = [LUMA_R / maxValue, LUMA_G / maxValue, LUMA_B / maxValue];
  for (let i = 0; i < rows; i++) {
    const cy = Math.min(cellRows - 1, Math.max(0, firstRow + i));
    const o = i * cellsWide;
    if (simdServes) {
      const own = colour !== null && i >= colour.from && i < colour.to;
      const luma = own && colour.luma ? { out: colour.luma, weights: pixelWeights } : null;
      simdRgbCells(
        data as Uint8Array,
        width,
        height,
        cell as 2 | 4,
        cy,
        [r, g, b],
        out,
        o,
        own ? colour.sum : null,
        cy * cellsWide * 3,
        luma,
      );
      continue;
    }
    if (cell > 2 && channels === 3) {
      const into = colour && i >= colour.from && i < colour.to ? colour.sum : null;
      binnedRgbCells(data, width, height, cell, cy, r, g, b, out, o, into, cy * cellsWide * 3);
      continue;
    }
    if (cell === 2 && channels === 3) {
      const into = colour && i >= colour.from && i < colour.to ? colour.sum : null;
      const row0 = Math.min(lastY, 2 * cy) * width;
      const row1 = Math.min(lastY, 2 * cy + 1) * width;
      binnedRgbRow(data, width, row0, row1, r, g, b, out, o, into, cy * cellsWide * 3);
      continue;
    }
    out.fill(0, o, o + cellsWide);
    for (let dy = 0; dy < cell; dy++) {
      const y = Math.min(lastY, cy * cell + dy);
      const rowStart = y * width;
      for (let dx = 0; dx < cell; dx++) {
        if (channels === 3) {
          for (let cx = 0; cx < cellsWide; cx++) {
            const x = Math.min(lastX, cx * cell + dx);
            const s = (rowStart + x) * 3;
            out[o + cx] += data[s] * r + data[s + 1] * g + data[s + 2] * b;
          }
        } else {
          for (let cx = 0; cx < cellsWide; cx++)
            out[o + cx] += data[rowStart + Math.min(lastX, cx * cell + dx)] * r;
        }
      }
    }
  }
  return cell >= 2 && channels === 3;
}

let scratch = new Float32Array(0);
// Per thread (each worker loads its own instance); undefined until first asked, null when unavailable.
let cellKernels: SimdCellLuminance | null | undefined;

function simdCells(): SimdCellLuminance | null {
  if (cellKernels === undefined) cellKernels = SimdCellLuminance.create();
  return cellKernels;
}

/** 2×2 and 4×4 RGB cells of 8-bit frames on the SIMD kernels; the leftover cells of a row in JavaScript. */
function simdRgbCells(
  data: Uint8Array,
  width: number,
  height: number,
  cell: 2 | 4,
  cy: number,
  weights: [number, number, number],
  out: Float32Array,
  o: number,
  sum: Float32Array | null,
  so: number,
  luma: PixelLuma | null,
): void {
  const [r, g, b] = weights;
  const { luminance, colour, done } = cellKernels!.row(data, width, height, cell, cy, weights, luma);
  out.set(luminance, o);
  if (sum) for (let i = 0; i < 3 * done; i++) sum[so + i] += colour[i];
  // The cells the kernel leaves (a partial last one, an odd 2×2 one) by the JavaScript path.
  binnedRgbCells(data, width, height, cell, cy, r, g, b, out, o, sum, so, done);
}

/** RGB bins of any size (4×4 for 8 MP and more), cells from `firstCell` on: per-cell channel sums, then luminance and colour. */
function binnedRgbCells(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  cell: number,
  cy: number,
  r: number,
  g: number,
  b: number,
  out: Float32Array,
  o: number,
  sum: Float32Array | null,
  so: number,
  firstCell = 0,
): void {
  const cellsWide = Math.ceil(width / cell);
  const full = Math.floor(width / cell);
  if (scratch.length < cellsWide * 3) scratch = new Float32Array(cellsWide * 3);
  const acc = scratch;
  acc.fill(0, 0, cellsWide * 3);
  const lastY = height - 1;
  const lastPixel = (width - 1) * 3;
  for (let dy = 0; dy < cell; dy++) {
    const rowStart = Math.min(lastY, cy * cell + dy) * width * 3;
    for (let cx = firstCell, s = rowStart + firstCell * cell * 3; cx < full; cx++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let dx = 0; dx < cell; dx++, s += 3) {
        red += data[s];
        green += data[s + 1];
        blue += data[s + 2];
      }
      acc[3 * cx] += red;
      acc[3 * cx + 1] += green;
      acc[3 * cx + 2] += blue;
    }
    // A partial last cell repeats the last column, as the generic path's clamping does.
    for (let cx = Math.max(full, firstCell); cx < cellsWide; cx++) {
      for (let dx = 0; dx < cell; dx++) {
        const s = rowStart + Math.min(lastPixel, (cx * cell + dx) * 3);
        acc[3 * cx] += data[s];
        acc[3 * cx + 1] += data[s + 1];
        acc[3 * cx + 2] += data[s + 2];
      }
    }
  }
  const mean = 1 / (cell * cell);
  for (let cx = firstCell; cx < cellsWide; cx++) {
    const red = acc[3 * cx];
    const green = acc[3 * cx + 1];
    const blue = acc[3 * cx + 2];
    out[o + cx] = red * r + green * g + blue * b;
    if (sum) {
      sum[so + 3 * cx] += red * mean;
      sum[so + 3 * cx + 1] += green * mean;
      sum[so + 3 * cx + 2] += blue * mean;
    }
  }
}

/** The hot case (RGB frames of 0.5–8 MP): one row of 2×2 bins, without per-pixel clamping. */
function binnedRgbRow(
  data: Uint8Array | Uint16Array,
  width: number,
  row0: number,
  row1: number,
  r: number,
  g: number,
  b: number,
  out: Float32Array,
  o: number,
  sum: Float32Array | null,
  so: number,
): void {
  const pairs = width >> 1;
  let s0 = row0 * 3;
  let s1 = row1 * 3;
  for (let cx = 0; cx < pairs; cx++, s0 += 6, s1 += 6) {
    const red = data[s0] + data[s0 + 3] + data[s1] + data[s1 + 3];
    const green = data[s0 + 1] + data[s0 + 4] + data[s1 + 1] + data[s1 + 4];
    const blue = data[s0 + 2] + data[s0 + 5] + data[s1 + 2] + data[s1 + 5];
    out[o + cx] = red * r + green * g + blue * b;
    if (sum) {
      const t = so + cx * 3;
      sum[t] += red * 0.25;
      sum[t + 1] += green * 0.25;
      sum[t + 2] += blue * 0.25;
    }
  }
  if (width & 1) {
    // The last cell of an odd width holds one column: count it twice, as the clamped generic path does.
    const red = 2 * (data[s0] + data[s1]);
    const green = 2 * (data[s0 + 1] + data[s1 + 1]);
    const blue = 2 * (data[s0 + 2] + data[s1 + 2]);
    out[o + pairs] = red * r + green * g + blue * b;
    if (sum) {
      const t = so + pairs * 3;
      sum[t] += red * 0.25;
      sum[t + 1] += green * 0.25;
      sum[t + 2] += blue * 0.25;
    }
  }
}
