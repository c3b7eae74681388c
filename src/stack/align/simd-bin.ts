// The aligner's box downscale of an 8-bit RGB frame in linear-light luminance, on the WebAssembly
// kernels: ~7× faster than the JavaScript loop, which still serves grey and 16-bit frames.
import type { Frame } from '../types.js';
import { instantiateKernels, reserveMemory, type Kernels } from './simd-module.js';

const TABLES = 1024;
const LINEAR = TABLES + 3 * 1024;
const SUMS = LINEAR + 1024;
const BINS = SUMS + 64;

export interface LuminanceBins {
  /** Per bin (hs rows of ws), the sum over its factor×factor pixels of linear luminance. */
  bins: Float32Array;
  /** Per channel, the sum of linear values over the central columns [u0, u1) of the central rows. */
  sums: number[];
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
   * `weighted`: 3 tables of 256 (linear value × luminance weight per channel); `linear`: 256 linear
   * values. Central rows are those with hs/4 ≤ v < 3hs/4; [u0, u1) are byte offsets within a row.
   */
  bin(
    frame: Frame,
    factor: number,
    ws: number,
    hs: number,
    weighted: Float32Array[],
    linear: Float32Array,
    u0: number,
    u1: number,
  ): LuminanceBins {
    const rowBytes = frame.width * 3;
    const source = BINS + ((ws * 4 + 15) & ~15);
    const memory = reserveMemory(this.kernels, source + factor * rowBytes);
    const heap = new Uint8Array(memory.buffer);
    const f32 = new Float32Array(memory.buffer);
    weighted.forEach((table, c) => f32.set(table, (TABLES >> 2) + 256 * c));
    f32.set(linear, LINEAR >> 2);
    new Float64Array(memory.buffer, SUMS, 3).fill(0);
    const bins = new Float32Array(ws * hs);
    const data = frame.data as Uint8Array;
    for (let v = 0; v < hs; v++) {
      const first = v * factor * rowBytes;
      heap.set(data.subarray(first, first + factor * rowBytes), source);
      const central = v >= hs / 4 && v < (3 * hs) / 4;
      this.kernels.binLuminance(
        source,
        frame.width,
        factor,
        ws,
        BINS,
        TABLES,
        LINEAR,
        central ? SUMS : 0,
        u0,
        u1,
      );
      bins.set(f32.subarray(BINS >> 2, (BINS >> 2) + ws), v * ws);
    }
    return { bins, sums: Array.from(new Float64Array(memory.buffer, SUMS, 3)) };
  }
}
