// The focus measure's cells for 8-bit RGB on the WebAssembly SIMD kernels: the step that reads every
// pixel of every frame (~36 M samples at 12 MP), several times faster than the JavaScript loop.
import { instantiateKernels, reserveMemory, type Kernels } from '../align/simd-module.js';

const ROWS = 1024;

export interface CellRow {
  /** Per whole cell, its weighted luminance sum (the caller's weights). */
  luminance: Float32Array;
  /** Per whole cell, its mean R, G, B. */
  colour: Float32Array;
  /** How many leading cells these hold: the rest (a partial last cell, an odd 2×2 one) are the caller's. */
  done: number;
}

export class SimdCellLuminance {
  private constructor(private readonly kernels: Kernels) {}

  /** Null when the kernels are unavailable. */
  static create(): SimdCellLuminance | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdCellLuminance(kernels) : null;
  }

  /** Cell row `cy` (cell 2 or 4; rows beyond the frame replicate its last); views valid until the next call. */
  row(
    data: Uint8Array,
    width: number,
    height: number,
    cell: 2 | 4,
    cy: number,
    weights: [number, number, number],
  ): CellRow {
    const rowBytes = width * 3;
    const full = Math.floor(width / cell);
    const done = cell === 4 ? full : full & ~1;
    const lum = (ROWS + cell * rowBytes + 16 + 15) & ~15;
    const colour = lum + ((4 * full + 15) & ~15);
    const memory = reserveMemory(this.kernels, colour + 12 * full + 16);
    const heap = new Uint8Array(memory.buffer);
    for (let dy = 0; dy < cell; dy++) {
      const y = Math.min(height - 1, cy * cell + dy) * rowBytes;
      heap.set(data.subarray(y, y + rowBytes), ROWS + dy * rowBytes);
    }
    this.kernels.cellLuminance(ROWS, width, cell, done, lum, colour, ...weights);
    return {
      luminance: new Float32Array(memory.buffer, lum, done),
      colour: new Float32Array(memory.buffer, colour, 3 * done),
      done,
    };
  }
}
