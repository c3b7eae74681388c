// The aligner's box downscale of an 8-bit RGB frame in linear-light luminance, on the WebAssembly
// kernels: ~7× faster than the JavaScript loop, which still serves grey and 16-bit frames.
import type { Frame } from '../types.js';
import { instantiateKernels, reserveMemory, roundUp16, type Kernels } from './simd-module.js';

const TABLES = 1024;
const BINS = TABLES + 3 * 1024;

/**
 * The rows of each factor×factor bin that are read: all of them up to factor 3; from 4 on every other
 * row, in pairs mirrored about the bin's middle so the sampled rows stay centred on it. At 12 MP
 * (factor 8) that halves the reads and copies of the aligner's costliest pass, and the estimates do
 * not move (measured on the bench's 12 MP wobbling stack: every frame within the same 0.09 px).
 */
export function sampledRows(factor: number): number[] {
  if (factor < 4) return Array.from({ length: factor }, (_, r) => r);
  const rows: number[] = [];
  for (let i = 0; i < factor / 2; i += 2) {
    rows.push(i);
    if (factor - 1 - i !== i) rows.push(factor - 1 - i);
  }
  return rows.sort((a, b) => a - b);
}

export class SimdLuminanceBinner {
  private constructor(private readonly kernels: Kernels) {}

  /** Null when the kernels are unavailable. */
  static create(): SimdLuminanceBinner | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdLuminanceBinner(kernels) : null;
  }

  static applies(frame: Frame): boolean {
    return frame.channels === 3 && frame.bitDepth === 8;
  }

  /**
   * Per bin (hs rows of ws), the sum of linear luminance over its `factor` columns and the rows
   * `rows` (offsets within the bin, see sampledRows). `weighted`: 3 tables of 256 (linear value ×
   * luminance weight per channel).
   */
  bin(
    frame: Frame,
    factor: number,
    rows: readonly number[],
    ws: number,
    hs: number,
    weighted: Float32Array[],
  ): Float32Array {
    const rowBytes = frame.width * 3;
    const source = BINS + roundUp16(ws * 4);
    const memory = reserveMemory(this.kernels, source + rows.length * rowBytes);
    const heap = new Uint8Array(memory.buffer);
    const f32 = new Float32Array(memory.buffer);
    weighted.forEach((table, c) => f32.set(table, (TABLES >> 2) + 256 * c));
    const bins = new Float32Array(ws * hs);
    const data = frame.data as Uint8Array;
    for (let v = 0; v < hs; v++) {
      rows.forEach((r, i) => {
        const first = (v * factor + r) * rowBytes;
        heap.set(data.subarray(first, first + rowBytes), source + i * rowBytes);
      });
      this.kernels.binLuminance(source, frame.width, factor, rows.length, ws, BINS, TABLES);
      bins.set(f32.subarray(BINS >> 2, (BINS >> 2) + ws), v * ws);
    }
    return bins;
  }
}
