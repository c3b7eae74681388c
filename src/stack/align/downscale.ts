// The small image every estimate works on: a frame's linear-light luminance, box-binned to fit a
// size×size canvas, and its exposure block means. It reads the whole frame, so it runs where the frame
// is (the caller's thread); the estimate that follows needs only this, and can run anywhere.
import type { Frame } from '../types.js';
import { blockMeans, type BlockMeans } from './exposure.js';
import { linearTable } from './linear-light.js';
import { sampledRows, SimdLuminanceBinner } from './simd-bin.js';

export interface SmallFrame {
  /** size × size, the frame centred on a canvas filled with its mean. */
  lum: Float32Array;
  blocks: BlockMeans;
}

/** How a frame maps onto the canvas: the binning factor and the frame's offset (small pixels). */
export interface CanvasGeometry {
  size: number;
  width: number;
  height: number;
  factor: number;
  ox: number;
  oy: number;
}

export function canvasGeometry(width: number, height: number, size: number): CanvasGeometry {
  const factor = Math.max(1, Math.ceil(Math.max(width, height) / size));
  const ws = Math.floor(width / factor);
  const hs = Math.floor(height / factor);
  return { size, width, height, factor, ox: Math.floor((size - ws) / 2), oy: Math.floor((size - hs) / 2) };
}

export class FrameDownscaler {
  private readonly binner = SimdLuminanceBinner.create();

  /** Box-binned linear-light luminance centred on a mean-filled size×size canvas, and the block means. */
  downscale(frame: Frame, geometry: CanvasGeometry): SmallFrame {
    const { factor, ox, oy, size } = geometry;
    const ws = Math.floor(frame.width / factor);
    const hs = Math.floor(frame.height / factor);
    const ch = frame.channels;
    // Linear light: the blur difference between focus steps biases estimates less there. The tables
    // fold in the luminance weights, so a sample costs one lookup.
    const linear = linearTable(frame.bitDepth);
    const weights = ch === 3 ? [0.299, 0.587, 0.114] : [1];
    const weighted = weights.map((w) => linear.map((v) => v * w));
    const [lr, lg, lb] = ch === 3 ? weighted : [weighted[0], weighted[0], weighted[0]];
    const rows = sampledRows(factor);
    const bins =
      this.binner && SimdLuminanceBinner.applies(frame)
        ? this.binner.bin(frame, factor, rows, ws, hs, weighted)
        : binLuminance(frame, factor, rows, ws, hs, lr, lg, lb);
    const lum = new Float32Array(size * size);
    const norm = 1 / (factor * rows.length);
    let total = 0;
    for (let v = 0; v < hs; v++) {
      const o = (v + oy) * size + ox;
      for (let u = 0; u < ws; u++) {
        const value = bins[v * ws + u] * norm;
        lum[o + u] = value;
        total += value;
      }
    }
    const mean = total / (ws * hs);
    // The canvas around the frame: whole rows above and below, the ends of the rows beside it.
    lum.fill(mean, 0, oy * size);
    lum.fill(mean, (oy + hs) * size);
    for (let v = oy; v < oy + hs; v++) {
      lum.fill(mean, v * size, v * size + ox);
      lum.fill(mean, v * size + ox + ws, (v + 1) * size);
    }
    return { lum, blocks: blockMeans(frame) };
  }
}

/** The JavaScript twin of SimdLuminanceBinner.bin (grey and 16-bit frames, or no WebAssembly SIMD). */
function binLuminance(
  frame: Frame,
  factor: number,
  rows: readonly number[],
  ws: number,
  hs: number,
  lr: Float32Array,
  lg: Float32Array,
  lb: Float32Array,
): Float32Array {
  const ch = frame.channels;
  const data = frame.data;
  const bins = new Float32Array(ws * hs);
  const binRow = new Float64Array(ws);
  for (let v = 0; v < hs; v++) {
    binRow.fill(0);
    for (const dy of rows) {
      let p = (v * factor + dy) * frame.width * ch;
      for (let u = 0; u < ws; u++) {
        let l = 0;
        if (ch === 3) {
          for (let i = 0; i < factor; i++, p += 3) l += lr[data[p]] + lg[data[p + 1]] + lb[data[p + 2]];
        } else {
          for (let i = 0; i < factor; i++, p++) l += lr[data[p]];
        }
        binRow[u] += l;
      }
    }
    bins.set(binRow, v * ws);
  }
  return bins;
}
