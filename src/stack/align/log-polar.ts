// Similarity transform (scale, rotation, shift) between two frames: log-polar FFT registration (Reddy &
// Chatterji 1996) for a coarse estimate, refined by inverse-compositional Gauss–Newton (Baker & Matthews 2004).
import { createPhaseCorrelator, type PreparedSpectrum } from './phase-correlation.js';
import { arenaBytes, createRefineLoops, NP, type RefineLoops } from './simd-refine.js';
import {
  applySimilarity,
  checkAlignSize,
  cholesky,
  choleskySolve,
  createFft2,
  downsample2,
  gaussianKernel,
  hannWindow,
  loadWindowed,
} from './spectrum.js';
import type { FrameTransform } from './transform.js';

export { applySimilarity, type Similarity } from './spectrum.js';

export interface SimilarityEstimator {
  readonly size: number;
  /**
   * The similarity mapping `reference` coordinates to `moving` coordinates (see {@link Similarity}), with
   * `confidence` in [0, 1]: the lower of the two phase-correlation confidences (log-polar and shift;
   * from a seed, the shift's), halved if the refinement failed and a coarser estimate is returned
   * instead. Exactly flat areas (e.g. constant padding around a non-square frame) are ignored by the
   * refinement. Work done on `reference` is kept for the next call if that passes the same pixel values
   * (compared, so mutating is safe). With a `seed` (the scale and rotation of a neighbouring frame),
   * the log-polar stage is skipped: the shift is found at the seed's scale and rotation, and the
   * refinement starts from there.
   */
  estimate(reference: Float32Array, moving: Float32Array, seed?: SimilaritySeed): SimilarityEstimate;
}

/**
 * Where a frame most likely sits relative to its neighbour: focus breathing and stage tilt change
 * little from one step to the next (~0.1 %, ~0.01°), closer than the log-polar stage resolves
 * (~0.5 %, ~0.3°), and that stage is ~40 % of an estimate's time. Without it the confidence is the
 * shift's alone, which does not tell frames too different to match (aligner.ts).
 */
export interface SimilaritySeed {
  scale: number;
  rotationDeg: number;
}

/** An estimate, and whether every refinement level converged (if not, a coarser level's answer). */
export type SimilarityEstimate = FrameTransform & { refined: boolean };

// Frames larger than this are box-averaged down a pyramid to it for the Fourier stage and the first
// refinement; the finer levels then only polish an estimate that is already within ~0.01 px.
const COARSE_SIDE = 256;
// Log-polar grid radii, in frequency bins: below RHO_MIN the window's own spectrum dominates; towards
// Nyquist a defocused frame holds only noise.
const RHO_MIN = 6;
const RHO_MAX_FRAC = 0.9;
// Gaussian σ (px) applied to both frames before Gauss–Newton on the coarsest level. It sets the basin of
// convergence (tested from 2 % scale, 1.5° and 3 px off, beyond the log-polar stage's ≤ 0.8 %, ≤ 0.5°)
// and brings a defocused frame's gradients closer to a sharp one's, which speeds convergence (see refine).
// Finer levels start within ~0.01 px and use the frames as they are: smoothing them cost more time than
// the precision it bought.
const SMOOTH_COARSE = 2;
const SMOOTH_FINE = 0;
const MAX_ITER = 20;
// Stop once an update moves no pixel of the frame by more than this (level px).
const STEP_TOL = 1e-3;

/** Images a level holds (see createLevel): what the SIMD module's memory must hold per level. */
const LEVEL_IMAGES = { f32: 8, u8: 4 };

/** One pyramid level: its frames, smoothed frames, the reference's gradients and refinement scratch. */
function createLevel(size: number, sigma: number, loops: RefineLoops) {
  const n = size * size;
  const kernel = sigma > 0 ? gaussianKernel(sigma) : null;
  const f = () => loops.f32(n);
  const u = () => loops.u8(n);
  // prettier-ignore
  return {
    size, kernel,
    /** Refinement visits every step-th pixel each way, ~COARSE_SIDE² in all: cost flat in the size. */
    step: Math.max(1, Math.round(size / COARSE_SIDE)),
    /** A refinement straying further than this (px) from its start has diverged. */
    maxDrift: Math.max(4, size / 64),
    /** Smoothing spreads a flat area's border by the kernel radius; gradients and the Laplacian add 1. */
    bandRadius: (kernel ? kernel.length >> 1 : 0) + 2,
    ref: f(), mov: f(), refS: f(), movS: f(), gx: f(), gy: f(), lap: f(), tmp: f(),
    /** Pixels in use; pixels in or near flat areas of either frame (see flatBand). */
    mask: u(), refBand: u(), movBand: u(), bandTmp: u(),
  };
}

type Level = ReturnType<typeof createLevel>;

export function createSimilarityEstimator(
  size: number,
  options: { simd?: boolean } = {},
): SimilarityEstimator {
  checkAlignSize(size, 'similarity estimator');
  const sides: number[] = [];
  for (let s = size; ; s >>= 1) {
    sides.push(s);
    if (s <= COARSE_SIDE) break;
  }
  const loops = createRefineLoops(
    arenaBytes(sides.map((s) => ({ f32: LEVEL_IMAGES.f32 * s * s, u8: LEVEL_IMAGES.u8 * s * s }))),
    options,
  );
  const levels = sides.map((s) => createLevel(s, s <= COARSE_SIDE ? SMOOTH_COARSE : SMOOTH_FINE, loops));
  const top = levels[levels.length - 1];
  const m = top.size;
  const mn = m * m;
  const fft2 = createFft2(m);
  const win = hannWindow(m);
  const correlator = createPhaseCorrelator(m);

  // Rows of the log-polar image are angles over [0, π) (|F| is point-symmetric), columns log radii.
  const du = Math.log((RHO_MAX_FRAC * m) / 2 / RHO_MIN) / m;
  const dTheta = Math.PI / m;
  const rho = Float64Array.from({ length: m }, (_, j) => RHO_MIN * Math.exp(j * du));
  const spec = new Float64Array(2 * mn);
  const mag = new Float64Array(mn);
  const lp = new Float32Array(mn);
  const warped = new Float32Array(mn);
  const H = new Float64Array(NP * NP);
  const g = new Float64Array(NP);
  const delta = new Float64Array(NP);
  let lpRef: PreparedSpectrum | null = null;
  let prepRef: PreparedSpectrum | null = null;

  /** Log-polar resampling (bilinear) of the windowed image's log-magnitude spectrum, into `lp`. */
  function logPolar(image: Float32Array): Float32Array {
    loadWindowed(image, m, win, mag);
    fft2.forwardReal(mag, spec);
    // The logarithm evens out the spectrum's steep radial fall-off, so that all radii weigh in.
    for (let i = 0; i < mn; i++) mag[i] = 0.5 * Math.log(1e-24 + spec[2 * i] ** 2 + spec[2 * i + 1] ** 2);
    const wrap = m - 1;
    for (let i = 0; i < m; i++) {
      const cos = Math.cos(i * dTheta);
      const sin = Math.sin(i * dTheta);
      for (let j = 0; j < m; j++) {
        const fu = rho[j] * cos + m;
        const fv = rho[j] * sin + m;
        const iu = Math.floor(fu);
        const iv = Math.floor(fv);
        const tu = fu - iu;
        const tv = fv - iv;
        const r0 = (iv & wrap) * m;
        const r1 = ((iv + 1) & wrap) * m;
        const u0 = iu & wrap;
        const u1 = (iu + 1) & wrap;
        lp[i * m + j] =
          (1 - tv) * ((1 - tu) * mag[r0 + u0] + tu * mag[r0 + u1]) +
          tv * ((1 - tu) * mag[r1 + u0] + tu * mag[r1 + u1]);
      }
    }
    return lp;
  }

  /** Reference pyramid, smoothed levels and their gradients; kept while calls pass the same pixels. */
  function loadReference(reference: Float32Array): void {
    const base = levels[0].ref;
    if (prepRef && sameContents(reference, base)) return;
    base.set(reference.subarray(0, base.length));
    for (let k = 0; k < levels.length; k++) {
      const L = levels[k];
      if (k > 0) downsample2(levels[k - 1].ref, levels[k - 1].size, L.ref);
      const { size: s, refS, gx, gy, lap } = L;
      if (L.kernel) loops.convolve(L.ref, s, L.kernel, L.tmp, refS);
      else refS.set(L.ref);
      loops.flatBand(L.ref, s, L.bandRadius, L.refBand, L.bandTmp);
      for (let y = 1; y < s - 1; y++) {
        for (let x = 1, i = y * s + 1; x < s - 1; x++, i++) {
          gx[i] = 0.5 * (refS[i + 1] - refS[i - 1]);
          gy[i] = 0.5 * (refS[i + s] - refS[i - s]);
          lap[i] = refS[i + 1] + refS[i - 1] + refS[i + s] + refS[i - s] - 4 * refS[i];
        }
      }
    }
    lpRef = correlator.prepare(logPolar(top.ref));
    prepRef = correlator.prepare(top.ref);
  }

  function estimate(
    reference: Float32Array,
    moving: Float32Array,
    seed?: SimilaritySeed,
  ): SimilarityEstimate {
    const n = size * size;
    if (reference.length < n || moving.length < n)
      throw new RangeError(`similarity: images shorter than ${size}²`);
    loadReference(reference);
    levels[0].mov.set(moving.subarray(0, n));
    for (let k = 1; k < levels.length; k++) downsample2(levels[k - 1].mov, levels[k - 1].size, levels[k].mov);

    // 1. Scale and rotation. |F| ignores the shift, and a similarity A turns spectra by A⁻ᵀ, so the moving
    //    log-polar spectrum is the reference's moved by (−ln s, +θ).
    const rs = seed ? null : correlator.correlate(lpRef!, correlator.prepare(logPolar(top.mov)));
    const s0 = rs ? Math.exp(-rs.dx * du) : seed!.scale;
    const th0 = rs ? rs.dy * dTheta : (seed!.rotationDeg * Math.PI) / 180;
    // 2. Shift. Sampling `moving` at A(x − c) + c gives reference(x − A⁻¹t): correlation yields A⁻¹t.
    applySimilarity(top.mov, m, { scale: s0, rotationDeg: (th0 * 180) / Math.PI, dx: 0, dy: 0 }, warped);
    const tr = correlator.correlate(prepRef!, correlator.prepare(warped));
    const a0 = s0 * Math.cos(th0);
    const b0 = s0 * Math.sin(th0);
    let p = [a0, b0, a0 * tr.dx - b0 * tr.dy, b0 * tr.dx + a0 * tr.dy];
    let confidence = rs ? Math.min(rs.confidence, tr.confidence) : tr.confidence;

    // 3. Refinement, coarse to fine: log-polar resolution alone gives ~0.5 % in scale and ~0.3° in
    //    rotation. About the centre, level k + 1 coordinates are level k's halved: α stays, t halves.
    let k = levels.length - 1;
    for (; k >= 0; k--) {
      if (k < levels.length - 1) p = [p[0], p[1], 2 * p[2], 2 * p[3]];
      const L = levels[k];
      if (L.kernel) loops.convolve(L.mov, L.size, L.kernel, L.tmp, L.movS);
      else L.movS.set(L.mov);
      loops.flatBand(L.mov, L.size, L.bandRadius, L.movBand, L.bandTmp);
      const q = refine(L, p);
      if (!q) break;
      p = q;
    }
    // A failed level (diverged or singular) keeps the previous level's estimate, trusted less.
    if (k >= 0) confidence *= 0.5;
    const f = 2 ** Math.max(0, k);
    return {
      scale: Math.hypot(p[0], p[1]),
      rotationDeg: (Math.atan2(p[1], p[0]) * 180) / Math.PI,
      dx: f * p[2],
      dy: f * p[3],
      confidence,
      refined: k < 0,
    };
  }

  /**
   * Gauss–Newton on W: z ↦ α(z − c) + c + t (complex α = a + ib, z = x + iy), minimising
   * Σ [movS(W(x)) − refS(x) − k₁·refS(x) − k₂ − k₃·∇²refS(x)]² over pixels that stay inside `moving`.
   * The photometric terms soak up exposure flicker and the defocus difference (blur ≈ identity + k·∇²),
   * which would otherwise leak into the scale. Inverse compositional (W ← W ∘ W(Δp)⁻¹): the Jacobian is
   * the reference's at the identity, so H is built once and an iteration only resamples `moving`. A
   * blurrier moving frame has weaker gradients than the reference, so steps fall short by their ratio
   * and convergence is linear; the pre-smoothing keeps that ratio near 1 (~5 iterations). Pixels whose
   * start image lies within maxDrift + 1 of the border are left out, and a refinement drifting further
   * than maxDrift is abandoned, so every pixel read stays inside `moving`. So are pixels near flat areas
   * of either frame: the edge of a padded canvas stays put while the specimen moves, and would pull the
   * estimate towards the identity. Returns [a, b, tx, ty], or null if H is singular (textureless frame)
   * or the iteration diverged.
   */
  function refine(L: Level, init: number[]): number[] | null {
    const { size: s, maxDrift } = L;
    const c = (s - 1) / 2;
    let [a, b, tx, ty] = init;
    // α is scaled by 1/s in the unknowns so that all columns of H have comparable magnitudes.
    loops.hessian(L, { a, b, tx, ty, lo: 2 + maxDrift, hi: s - 4 - maxDrift }, H);
    if (!cholesky(H, NP)) return null;
    for (let it = 0; it < MAX_ITER; it++) {
      loops.gradient(L, a, b, tx, ty, g);
      g[0] /= s;
      g[1] /= s;
      choleskySolve(H, NP, g, delta);
      // W(Δp): z ↦ (1 + δα)(z − c) + c + δt; composing with its inverse divides α by (1 + δα).
      const da = delta[0] / s;
      const db = delta[1] / s;
      const den = (1 + da) ** 2 + db ** 2;
      const na = (a * (1 + da) + b * db) / den;
      const nb = (b * (1 + da) - a * db) / den;
      tx -= na * delta[2] - nb * delta[3];
      ty -= nb * delta[2] + na * delta[3];
      a = na;
      b = nb;
      if (!(maxDisplacement(a - init[0], b - init[1], tx - init[2], ty - init[3], c) <= maxDrift))
        return null;
      if (maxDisplacement(da, db, delta[2], delta[3], c) < STEP_TOL) break;
    }
    return [a, b, tx, ty];
  }

  return { size, estimate };
}

/** Bound on how far z ↦ δα(z − c) + δt moves any pixel of the frame (|z − c| ≤ c√2). */
function maxDisplacement(da: number, db: number, dx: number, dy: number, c: number): number {
  return Math.hypot(da, db) * c * Math.SQRT2 + Math.hypot(dx, dy);
}

function sameContents(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
