// Loads the WebAssembly SIMD kernels (simd/kernels.ts, built into dist/wasm/warp.wasm): compiled once
// per thread, instantiated per user. Absent or refused (no SIMD), callers keep their JavaScript paths.
import { existsSync, readFileSync } from 'node:fs';

// Node has WebAssembly, but neither TypeScript's ES libraries nor @types/node 20 describe it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface Kernels {
  memory: WasmMemory;
  horizontal(...args: number[]): void;
  vertical(...args: number[]): void;
  padRows(...args: number[]): void;
  binLuminance(...args: number[]): void;
  cellLuminance(...args: number[]): void;
  pixelLuma(...args: number[]): void;
  reduceRow(...args: number[]): void;
  expandRow(...args: number[]): void;
  laplacianBoxMean(...args: number[]): void;
  refineHessian(...args: number[]): void;
  refineGradient(...args: number[]): void;
  flatBand(...args: number[]): void;
  convolve(...args: number[]): void;
}

/** Where the build puts the module: dist/wasm, from dist/src/stack/align or from the sources. */
const MODULE_CANDIDATES = ['../../../wasm/warp.wasm', '../../../dist/wasm/warp.wasm'];

let compiled: object | null | undefined;

function compiledKernels(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (process.env.STACKSCOPE_SIMD === '0') return null;
  for (const candidate of MODULE_CANDIDATES) {
    const url = new URL(candidate, import.meta.url);
    if (!existsSync(url)) continue;
    try {
      compiled = new wasm.Module(readFileSync(url));
    } catch {
      // A CPU or runtime without WebAssembly SIMD rejects the module: the float path serves.
      compiled = null;
    }
    break;
  }
  return compiled ?? null;
}

/** Whether this process can use the SIMD kernels (the module is built and the runtime takes it). */
export function simdAvailable(): boolean {
  return compiledKernels() !== null;
}

/** A fresh instance with its own memory; null when the kernels are unavailable. */
export function instantiateKernels(): Kernels | null {
  const module = compiledKernels();
  return module ? (new wasm.Instance(module, {}).exports as unknown as Kernels) : null;
}

const WASM_PAGE = 65536;

/** Grows the instance's memory to at least `bytes`; views of the old buffer are stale afterwards. */
export function reserveMemory(kernels: Kernels, bytes: number): WasmMemory {
  const memory = kernels.memory;
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE));
  return memory;
}

/**
 * reserveMemory, as floats: `previous` again while the memory did not grow, else a new view (callers
 * keep the returned view for their next call, so a hot path does not allocate one per row).
 */
export function reserveFloats(kernels: Kernels, bytes: number, previous: Float32Array): Float32Array {
  const memory = reserveMemory(kernels, bytes);
  return previous.buffer === memory.buffer ? previous : new Float32Array(memory.buffer);
}

/** Byte offsets in the module's memory are kept 16-byte aligned for its v128 loads and stores. */
export function roundUp16(n: number): number {
  return (n + 15) & ~15;
}
