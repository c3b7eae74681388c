// REDUCE and EXPAND of wide pyramid levels on the WebAssembly SIMD kernels (align/simd/pyramid.ts):
// source rows are copied into the module's memory (REDUCE keeps them in a ring, so each is copied
// once per band), the kernel writes the output row there, and it is copied out. The JavaScript loops
// in pyramid-ops.ts stay the definition, and serve narrow levels and runtimes without SIMD.
import { instantiateKernels, reserveFloats, roundUp16, type Kernels } from '../align/simd-module.js';

/** Narrower levels stay in JavaScript: their rows are too short to repay the calls and copies. */
export const SIMD_MIN_WIDTH = 64;
/** Source rows REDUCE keeps (a power of two above the five it reads). */
const RING = 8;

export class SimdPyramidRows {
  /** Which source row each ring slot holds during one reduceRows call. */
  private readonly slotRow = new Int32Array(RING);
  private view: Float32Array = new Float32Array(0);

  private constructor(private readonly kernels: Kernels) {}

  /** Null when the kernels are unavailable. */
  static create(): SimdPyramidRows | null {
    const kernels = instantiateKernels();
    return kernels ? new SimdPyramidRows(kernels) : null;
  }

  /** The module's memory, at least `bytes`, as floats. */
  private heap(bytes: number): Float32Array {
    this.view = reserveFloats(this.kernels, bytes, this.view);
    return this.view;
  }

  /** pyramid-ops.ts reduceRows, for sw ≥ SIMD_MIN_WIDTH. */
  reduceRows(
    src: Float32Array,
    srcOff: number,
    sw: number,
    sh: number,
    dst: Float32Array,
    dstOff: number,
    dw: number,
    start: number,
    end: number,
  ): void {
    const rowBytes = roundUp16(4 * sw + 16);
    const ring = 0;
    const tmp = ring + RING * rowBytes;
    const out = tmp + rowBytes;
    const heap = this.heap(out + roundUp16(4 * dw + 16));
    this.slotRow.fill(-1);
    const lastY = sh - 1;
    /** Byte address of source row y (clamped) in the ring, copied in if it is not there yet. */
    const rowAt = (y: number): number => {
      const row = y < 0 ? 0 : y > lastY ? lastY : y;
      const slot = row & (RING - 1);
      const at = ring + slot * rowBytes;
      if (this.slotRow[slot] !== row) {
        heap.set(src.subarray(srcOff + row * sw, srcOff + (row + 1) * sw), at >> 2);
        this.slotRow[slot] = row;
      }
      return at;
    };
    for (let i = start; i < end; i++) {
      const y = 2 * i;
      // Rows y − 2 … y + 2 span five consecutive rows, so the ring of eight never evicts one in use.
      const up2 = rowAt(y - 2);
      const up1 = rowAt(y - 1);
      const centre = rowAt(y);
      const down1 = rowAt(y + 1);
      const down2 = rowAt(y + 2);
      this.kernels.reduceRow(centre, up1, down1, up2, down2, sw, tmp, out, dw);
      dst.set(heap.subarray(out >> 2, (out >> 2) + dw), dstOff + i * dw);
    }
  }

  /** pyramid-ops.ts expandRow, for sw ≥ SIMD_MIN_WIDTH. */
  expandRow(
    src: Float32Array,
    srcOff: number,
    sw: number,
    sh: number,
    y: number,
    dw: number,
    out: Float32Array,
  ): void {
    const rowBytes = roundUp16(4 * sw + 16);
    const tmp = 3 * rowBytes;
    const result = tmp + rowBytes;
    const heap = this.heap(result + roundUp16(4 * dw + 16));
    const lastY = sh - 1;
    const j = y >> 1;
    const even = (y & 1) === 0;
    // Even rows blend rows j − 1, j, j + 1; odd rows average j and j + 1 (the first slot unused).
    const rows = even ? [j - 1, j, j + 1] : [j, j, j + 1];
    for (let k = even ? 0 : 1; k < 3; k++) {
      const row = Math.min(lastY, Math.max(0, rows[k]));
      heap.set(src.subarray(srcOff + row * sw, srcOff + (row + 1) * sw), (k * rowBytes) >> 2);
    }
    this.kernels.expandRow(0, rowBytes, 2 * rowBytes, even ? 1 : 0, sw, tmp, result, dw);
    out.set(heap.subarray(result >> 2, (result >> 2) + dw));
  }
}
