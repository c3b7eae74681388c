// The similarity estimator's per-pixel loops: the refinement's normal matrix and gradient, the flat-area
// band and the smoothing, on the WebAssembly SIMD kernels (simd/estimator.ts) or their JavaScript twins.
//
// The SIMD path needs its images in the module's memory: an estimator allocates them all at once from
// an ImageArena (views never move: the memory is reserved up front and never grown afterwards).
import { instantiateKernels, reserveMemory, roundUp16, type Kernels } from './simd-module.js';
import { bicubicInterior, convolveSeparable, flatBand } from './spectrum.js';

/** Unknowns of the refinement: δα (2), δt (2), gain, offset, Laplacian weight. */
export const NP = 7;

/** A pyramid level's images, as the loops read them. */
export interface RefineImages {
  size: number;
  /** Every step-th pixel each way is visited. */
  step: number;
  refS: Float32Array;
  movS: Float32Array;
  gx: Float32Array;
  gy: Float32Array;
  lap: Float32Array;
  mask: Uint8Array;
  refBand: Uint8Array;
  movBand: Uint8Array;
}

/** Where the warp starts (α = a + ib, t) and the bounds (px) its start positions must keep to. */
export interface RefineStart {
  a: number;
  b: number;
  tx: number;
  ty: number;
  lo: number;
  hi: number;
}

export interface RefineLoops {
  /** Allocates the images; with SIMD they live in the module's memory. */
  f32(n: number): Float32Array;
  u8(n: number): Uint8Array;
  /** Sets `mask` and writes the lower triangle of Σ J·Jᵀ into H (NP × NP, row-major). */
  hessian(L: RefineImages, start: RefineStart, H: Float64Array): void;
  /** Σ J·e over the masked pixels into g (the first two without their 1/size). */
  gradient(L: RefineImages, a: number, b: number, tx: number, ty: number, g: Float64Array): void;
  flatBand(src: Float32Array, size: number, r: number, out: Uint8Array, tmp: Uint8Array): void;
  convolve(src: Float32Array, size: number, kernel: Float64Array, tmp: Float32Array, dst: Float32Array): void;
}

/** Bytes an estimator's images take in the module: what `createRefineLoops` must be given. */
export function arenaBytes(arrays: { f32: number; u8: number }[]): number {
  return arrays.reduce((sum, a) => sum + a.f32 * 4 + a.u8 + 32, 0);
}

/** The SIMD loops when the kernels are available (and `simd` is not false), else the JavaScript twins. */
export function createRefineLoops(bytes: number, options: { simd?: boolean } = {}): RefineLoops {
  const kernels = options.simd === false ? null : instantiateKernels();
  // A module built before these kernels existed lacks them: the twins serve.
  const complete = kernels && typeof kernels.refineGradient === 'function';
  return complete ? simdLoops(kernels, bytes) : javascriptLoops();
}

function javascriptLoops(): RefineLoops {
  return {
    f32: (n) => new Float32Array(n),
    u8: (n) => new Uint8Array(n),
    hessian: hessianJs,
    gradient: gradientJs,
    flatBand,
    convolve: (src, size, kernel, tmp, dst) => convolveSeparable(src, size, kernel, tmp, dst),
  };
}

// Scratch in the module ahead of the images: H (7 × 8 f64), g (7 f64), a kernel of up to 64 taps.
const H_AT = 0;
const G_AT = 512;
const KERNEL_AT = 576;
const IMAGES_AT = 1024;

function simdLoops(kernels: Kernels, bytes: number): RefineLoops {
  const memory = reserveMemory(kernels, IMAGES_AT + bytes);
  const buffer = memory.buffer;
  let next = IMAGES_AT;
  const take = (size: number): number => {
    const at = next;
    next = roundUp16(next + size);
    if (next > IMAGES_AT + bytes)
      throw new RangeError(`estimator images need more than the ${bytes} bytes reserved`);
    return at;
  };
  const at = (array: Float32Array | Uint8Array): number => {
    if (array.buffer !== buffer) throw new RangeError('estimator image outside the SIMD module’s memory');
    return array.byteOffset;
  };
  const h = new Float64Array(buffer, H_AT, 56);
  const g = new Float64Array(buffer, G_AT, NP);
  const weights = new Float32Array(buffer, KERNEL_AT, 64);
  return {
    f32: (n) => new Float32Array(buffer, take(4 * n), n),
    u8: (n) => new Uint8Array(buffer, take(n), n),
    hessian(L, s, H) {
      kernels.refineHessian(
        at(L.refS),
        at(L.gx),
        at(L.gy),
        at(L.lap),
        at(L.refBand),
        at(L.movBand),
        at(L.mask),
        L.size,
        L.step,
        s.a,
        s.b,
        s.tx,
        s.ty,
        s.lo,
        s.hi,
        H_AT,
      );
      for (let p = 0; p < NP; p++) for (let q = 0; q <= p; q++) H[p * NP + q] = h[p * 8 + q];
    },
    gradient(L, a, b, tx, ty, out) {
      kernels.refineGradient(
        at(L.movS),
        at(L.refS),
        at(L.gx),
        at(L.gy),
        at(L.lap),
        at(L.mask),
        L.size,
        L.step,
        a,
        b,
        tx,
        ty,
        G_AT,
      );
      out.set(g);
    },
    flatBand(src, size, r, out, tmp) {
      kernels.flatBand(at(src), size, r, at(out), at(tmp));
    },
    convolve(src, size, kernel, tmp, dst) {
      if (kernel.length > weights.length) throw new RangeError(`kernel of ${kernel.length} taps: at most 64`);
      weights.set(kernel);
      kernels.convolve(at(src), size, KERNEL_AT, kernel.length, at(tmp), at(dst));
    },
  };
}

/** The JavaScript twin of the SIMD refineHessian. */
function hessianJs(L: RefineImages, start: RefineStart, H: Float64Array): void {
  const { size: s, step, refS, gx, gy, lap, mask, refBand, movBand } = L;
  const { a, b, tx, ty, lo, hi } = start;
  const c = (s - 1) / 2;
  const end = s - 2;
  const J = new Float64Array(NP);
  H.fill(0);
  for (let y = 2; y < end; y += step) {
    const Y = y - c;
    let u = a * (2 - c) - b * Y + c + tx;
    let v = b * (2 - c) + a * Y + c + ty;
    for (let x = 2, i = y * s + 2; x < end; x += step, i += step, u += step * a, v += step * b) {
      const inside = u >= lo && v >= lo && u <= hi && v <= hi;
      const use = inside && refBand[i] === 0 && movBand[Math.round(v) * s + Math.round(u)] === 0;
      mask[i] = use ? 1 : 0;
      if (!use) continue;
      const X = x - c;
      J[0] = (gx[i] * X + gy[i] * Y) / s;
      J[1] = (gy[i] * X - gx[i] * Y) / s;
      J[2] = gx[i];
      J[3] = gy[i];
      J[4] = refS[i];
      J[5] = 1;
      J[6] = lap[i];
      for (let p = 0; p < NP; p++) for (let q = 0; q <= p; q++) H[p * NP + q] += J[p] * J[q];
    }
  }
}

/** The JavaScript twin of the SIMD refineGradient. */
function gradientJs(L: RefineImages, a: number, b: number, tx: number, ty: number, g: Float64Array): void {
  const { size: s, step, refS, movS, gx, gy, lap, mask } = L;
  const c = (s - 1) / 2;
  const end = s - 2;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0; // prettier-ignore
  for (let y = 2; y < end; y += step) {
    const Y = y - c;
    let u = a * (2 - c) - b * Y + c + tx;
    let v = b * (2 - c) + a * Y + c + ty;
    for (let x = 2, i = y * s + 2; x < end; x += step, i += step, u += step * a, v += step * b) {
      if (mask[i] === 0) continue;
      const e = bicubicInterior(movS, s, u, v) - refS[i];
      const ex = gx[i] * e;
      const ey = gy[i] * e;
      g0 += ex * (x - c) + ey * Y;
      g1 += ey * (x - c) - ex * Y;
      g2 += ex;
      g3 += ey;
      g4 += refS[i] * e;
      g5 += e;
      g6 += lap[i] * e;
    }
  }
  g[0] = g0;
  g[1] = g1;
  g[2] = g2;
  g[3] = g3;
  g[4] = g4;
  g[5] = g5;
  g[6] = g6;
}
