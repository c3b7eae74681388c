// The default measure's pixel work (squared Laplacian, then its window mean) on the WebAssembly SIMD
// kernels (align/simd/measure.ts): the band is copied in, the scores copied out.
import { instantiateKernels, reserveFloats, roundUp16, type Kernels } from '../align/simd-module.js';

/** Wider windows stay on the JavaScript running sums, whose cost does not grow with the radius. */
export const SIMD_MAX_RADIUS = 6;

export class SimdLaplacianBoxMean {
  private view: Float32Array = new Float32Array(0);

  private constructor(private readonly kernels: Kernels) {}

  /** Null when the kernels are unavailable. */
  static create(): SimdLaplacianBoxMean | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdLaplacianBoxMean(kernels) : null;
  }

  /** out (width × rows) = (2·radius + 1)² mean of the squared Laplacian of lum, edges replicated. */
  compute(lum: Float32Array, width: number, rows: number, radius: number, out: Float32Array): void {
    const n = width * rows;
    // Each image with 16 bytes to spare: the kernel's loads read up to a vector past a row's end.
    const bytes = roundUp16(4 * n + 16);
    const tmp = bytes;
    const scores = 2 * bytes;
    this.view = reserveFloats(this.kernels, 3 * bytes, this.view);
    this.view.set(lum.subarray(0, n), 0);
    this.kernels.laplacianBoxMean(0, width, rows, radius, tmp, scores);
    out.set(this.view.subarray(scores >> 2, (scores >> 2) + n));
  }
}
