// The focus measure's cells for 8-bit RGB on the WebAssembly SIMD kernels: the step that reads every
// pixel of every frame (~36 M samples at 12 MP), several times faster than the JavaScript loop.
import { instantiateKernels, reserveMemory, roundUp16, type Kernels } from '../align/simd-module.js';

const ROWS = 1024;

export interface CellRow {
  /** Per whole cell, its weighted luminance sum (the caller's weights). */
  luminance: Float32Array;
  /** Per whole cell, its mean R, G, B. */
  colour: Float32Array;
  /** How many leading cells these hold: the rest (a partial last cell, an odd 2×2 one) are the caller's. */
  done: number;
}

/** Where and how SimdCellLuminance.row also writes per-pixel luma. */
export interface PixelLuma {
  /** Width × height, row-major. */
  out: Float32Array;
  weights: [number, number, number];
}

export class SimdCellLuminance {
  private constructor(private readonly kernels: Kernels) {}

  /** Null when the kernels are unavailable. */
  static create(): SimdCellLuminance | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdCellLuminance(kernels) : null;
  }

  /**
   * Cell row `cy` (cell 2 or 4; rows beyond the frame replicate its last); views valid until the next
   * call. With `luma`, also each pixel's luma (pixelWeights) of the cell row's pixel rows within the
   * frame, into luma.out at their place: the pyramid's per-pixel pass, while the rows are here.
   */
  row(
    data: Uint8Array,
    width: number,
    height: number,
    cell: 2 | 4,
    cy: number,
    weights: [number, number, number],
    luma: PixelLuma | null = null,
  ): CellRow {
    const rowBytes = width * 3;
    const full = Math.floor(width / cell);
    const done = cell === 4 ? full : full & ~1;
    const lum = roundUp16(ROWS + cell * rowBytes + 16);
    const colour = lum + roundUp16(4 * full);
    const pixels = roundUp16(colour + 12 * full + 16);
    const memory = reserveMemory(this.kernels, pixels + (luma ? 4 * cell * width : 0));
    const heap = new Uint8Array(memory.buffer);
    for (let dy = 0; dy < cell; dy++) {
      const y = Math.min(height - 1, cy * cell + dy) * rowBytes;
      heap.set(data.subarray(y, y + rowBytes), ROWS + dy * rowBytes);
    }
    this.kernels.cellLuminance(ROWS, width, cell, done, lum, colour, ...weights);
    if (luma) {
      const first = cy * cell;
      const count = Math.max(0, Math.min(cell, height - first)) * width;
      this.kernels.pixelLuma(ROWS, count, pixels, ...luma.weights);
      luma.out.set(new Float32Array(memory.buffer, pixels, count), first * width);
    }
    return {
      luminance: new Float32Array(memory.buffer, lum, done),
      colour: new Float32Array(memory.buffer, colour, 3 * done),
      done,
    };
  }
}
