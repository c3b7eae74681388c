// Translation between two size×size images by phase correlation (Kuglin & Hines 1975), the peak refined
// on the DFT interpolant evaluated directly, as in Guizar-Sicairos, Thurman & Fienup 2008 (Opt. Lett. 33).
import { checkAlignSize, createFft2, hannWindow, loadWindowed, signedBin } from './spectrum.js';

/** A frame's whitened, weighted spectrum. Opaque: only `correlate` of a correlator of this size reads it. */
export interface PreparedSpectrum {
  readonly size: number;
  /** Interleaved complex, row-major: unit phase × √W × the frame's noise gain, per bin. */
  readonly data: Float64Array;
}

export interface Correlation {
  /** Shift such that b(x, y) ≈ a(x − dx, y − dy): content of `a` appears in `b` moved by (+dx, +dy). */
  dx: number;
  dy: number;
  /**
   * Height of the refined peak relative to a perfect match under the fixed weighting W: at most 1, lower
   * as noise, blur difference and non-overlap grow, near 0 for unrelated images.
   */
  peak: number;
  /**
   * 0–1 from the peak-to-sidelobe ratio of the correlation surface (PSR 7 → 0, 17 → 1): near 1 for a real
   * match, below 0.1 for unrelated images. It says the peak is real, not how precise it is.
   */
  confidence: number;
}

export interface PhaseCorrelatorOptions {
  /** Frequencies well below this (cycles/pixel) are suppressed. Default 0.01. */
  highPass?: number;
  /** Gaussian roll-off scale (cycles/pixel) of the upper band. Default 0.2. */
  lowPass?: number;
}

export interface PhaseCorrelator {
  readonly size: number;
  prepare(image: Float32Array): PreparedSpectrum;
  correlate(a: PreparedSpectrum, b: PreparedSpectrum): Correlation;
}

// Newton steps on the interpolated correlation: stop when a step is below this (px), or after MAX_NEWTON.
const NEWTON_TOL = 1e-4;
const MAX_NEWTON = 8;
// Peak-to-sidelobe ratios mapped to confidence 0 and 1. The correlation of unrelated images is noise-like
// with a maximum of ~4–5σ over 256² pixels (measured: confidence ≤ 0.1 over 40 unrelated pairs); a true
// match of textured frames scores far above 20.
const PSR_NONE = 7;
const PSR_FULL = 17;

/**
 * Frequency weighting, the choice that matters most here:
 * - Whitening (|cross spectrum| normalised to 1, pure phase correlation) weights every frequency alike,
 *   so a defocused frame, whose energy sits in its low frequencies, still locks onto the finer texture
 *   both frames share, and the peak is sharp.
 * - A fixed radial band-pass W(f) = (1 − e^{−(f/f_lo)²})·e^{−(f/f_hi)²} then drops the lowest bins, which
 *   hold window leakage, vignetting and illumination drift that do not move with the specimen (they pull
 *   towards zero shift), and rolls off the highest, where a blurred frame holds mostly noise.
 * - An adaptive per-frame gain 1 − N/P(ρ), with P(ρ) the frame's mean power on the ring of radius ρ and
 *   N the lowest ring power (taken as its noise floor), removes the rings where that frame holds only
 *   noise. The product of the two frames' gains is exactly snr/(1 + snr), a Wiener factor on the
 *   combined SNR, so a strongly defocused frame is matched on the band it still has (without it, σ = 3 px
 *   blur plus noise costs 0.3 px of error; with it 0.06).
 * Because each spectrum is whitened, a filter applied to the images themselves would cancel out: the
 * weighting has to act on the spectra, as here.
 */
export function createPhaseCorrelator(size: number, opts: PhaseCorrelatorOptions = {}): PhaseCorrelator {
  checkAlignSize(size, 'phase correlation');
  const fLo = opts.highPass ?? 0.01;
  const fHi = opts.lowPass ?? 0.2;
  const n = size * size;
  const fft2 = createFft2(size);
  const win = hannWindow(size);

  // √W per bin, so that the product of two prepared spectra carries W once. Nyquist bins are zeroed: their
  // sign is ambiguous, which would put an imaginary part on the interpolated correlation.
  const sqrtW = new Float64Array(n);
  let sumW = 0;
  for (let v = 0; v < size; v++) {
    const fv = signedBin(v, size) / size;
    for (let u = 0; u < size; u++) {
      const fu = signedBin(u, size) / size;
      const f2 = fu * fu + fv * fv;
      const nyquist = u === size >> 1 || v === size >> 1;
      const w = nyquist ? 0 : (1 - Math.exp(-f2 / (fLo * fLo))) * Math.exp(-f2 / (fHi * fHi));
      sqrtW[v * size + u] = Math.sqrt(w);
      sumW += w;
    }
  }

  const real = new Float64Array(n);
  // Ring (rounded radius in bins, corners folded into the outermost) of every bin.
  const half = size >> 1;
  const ring = new Uint16Array(n);
  const ringSum = new Float64Array(half + 1);
  const ringCount = new Float64Array(half + 1);
  const ringGain = new Float64Array(half + 1);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const k = Math.min(half, Math.round(Math.hypot(signedBin(u, size), signedBin(v, size))));
      ring[v * size + u] = k;
      ringCount[k]++;
    }
  }
  const cross = new Float64Array(2 * n);
  const corr = new Float64Array(2 * n);
  const twX = new Float64Array(2 * size);
  const twY = new Float64Array(2 * size);
  const freq = new Float64Array(size);
  for (let k = 0; k < size; k++) freq[k] = signedBin(k, size);
  // Both spectra are of real images, so the cross spectrum is Hermitian: the bins (v, u) and (−v, −u)
  // add conjugate terms, whose real parts are equal. `evaluate` sums columns 0 … size/2 only, the
  // inner ones twice (column size/2 is its own mirror, and zero: Nyquist).
  const pairWeight = Float64Array.from({ length: half + 1 }, (_, u) => (u === 0 || u === half ? 1 : 2));
  /** Value, gradient and Hessian of the correlation at the last `evaluate` point. */
  const at = { c: 0, gx: 0, gy: 0, hxx: 0, hxy: 0, hyy: 0 };

  function prepare(image: Float32Array): PreparedSpectrum {
    const data = new Float64Array(2 * n);
    loadWindowed(image, size, win, real);
    fft2.forwardReal(real, data);
    // Noise gain per ring (see above). Rings below 4 are left out of the floor: window leakage.
    ringSum.fill(0);
    for (let i = 0; i < n; i++) ringSum[ring[i]] += data[2 * i] ** 2 + data[2 * i + 1] ** 2;
    let floor = Infinity;
    for (let k = 4; k < ringSum.length; k++) floor = Math.min(floor, ringSum[k] / ringCount[k]);
    for (let k = 0; k < ringSum.length; k++) {
      const p = ringSum[k] / ringCount[k];
      ringGain[k] = p > 0 ? Math.max(0, 1 - floor / p) : 0;
    }
    for (let i = 0; i < n; i++) {
      const re = data[2 * i];
      const im = data[2 * i + 1];
      const mag = Math.sqrt(re * re + im * im);
      // Normalising each spectrum separately equals normalising their product (|A*B| = |A||B|).
      const k = mag > 1e-30 ? (sqrtW[i] * ringGain[ring[i]]) / mag : 0;
      data[2 * i] = re * k;
      data[2 * i + 1] = im * k;
    }
    return { size, data };
  }

  /**
   * The correlation at a continuous point, C(x, y) = Re Σ_k R(k)·e^{2πi k·(x, y)/N} / N², and its first
   * and second derivatives: the single-point form of the matrix-multiply DFT of Guizar-Sicairos et al.,
   * which interpolates the peak exactly (the band-limited interpolant) at O(N²) per point.
   */
  function evaluate(x: number, y: number): void {
    for (let k = 0; k < size; k++) {
      const px = (2 * Math.PI * freq[k] * x) / size;
      const py = (2 * Math.PI * freq[k] * y) / size;
      twX[2 * k] = Math.cos(px);
      twX[2 * k + 1] = Math.sin(px);
      twY[2 * k] = Math.cos(py);
      twY[2 * k + 1] = Math.sin(py);
    }
    let c = 0, gx = 0, gy = 0, hxx = 0, hxy = 0, hyy = 0; // prettier-ignore
    for (let v = 0; v < size; v++) {
      // Row sums over u of R·e^{iφx}, weighted by 1, u and u²; then the row's e^{iφy} and v weights.
      let r0 = 0, i0 = 0, r1 = 0, i1 = 0, r2 = 0, i2 = 0; // prettier-ignore
      const row = 2 * v * size;
      for (let u = 0; u <= half; u++) {
        const cr = cross[row + 2 * u];
        const ci = cross[row + 2 * u + 1];
        const wr = twX[2 * u];
        const wi = twX[2 * u + 1];
        const h = pairWeight[u];
        const zr = h * (cr * wr - ci * wi);
        const zi = h * (cr * wi + ci * wr);
        const f = freq[u];
        r0 += zr;
        i0 += zi;
        r1 += f * zr;
        i1 += f * zi;
        r2 += f * f * zr;
        i2 += f * f * zi;
      }
      const er = twY[2 * v];
      const ei = twY[2 * v + 1];
      const fv = freq[v];
      const re0 = r0 * er - i0 * ei;
      const im0 = r0 * ei + i0 * er;
      c += re0;
      gx -= r1 * ei + i1 * er;
      gy -= fv * im0;
      hxx -= r2 * er - i2 * ei;
      hxy -= fv * (r1 * er - i1 * ei);
      hyy -= fv * fv * re0;
    }
    const k1 = (2 * Math.PI) / size;
    at.c = c / n;
    at.gx = (gx * k1) / n;
    at.gy = (gy * k1) / n;
    at.hxx = (hxx * k1 * k1) / n;
    at.hxy = (hxy * k1 * k1) / n;
    at.hyy = (hyy * k1 * k1) / n;
  }

  function correlate(a: PreparedSpectrum, b: PreparedSpectrum): Correlation {
    if (a.size !== size || b.size !== size)
      throw new RangeError(`phase correlation: spectra are not ${size}²`);
    const A = a.data;
    const B = b.data;
    // conj(A)·B: for b(x) = a(x − d), B = A·e^{−2πi k·d/N}, so the inverse transform peaks at +d.
    for (let i = 0; i < 2 * n; i += 2) {
      const re = A[i] * B[i] + A[i + 1] * B[i + 1];
      const im = A[i] * B[i + 1] - A[i + 1] * B[i];
      cross[i] = corr[i] = re;
      cross[i + 1] = corr[i + 1] = im;
    }
    fft2.inverse(corr);

    let best = 0;
    for (let i = 1; i < n; i++) if (corr[2 * i] > corr[2 * best]) best = i;
    const px = best % size;
    const py = (best - px) / size;
    const grid = (x: number, y: number) => corr[2 * (((y + size) % size) * size + ((x + size) % size))];
    const peak0 = corr[2 * best];

    // Peak-to-sidelobe ratio, excluding a neighbourhood of the peak wide enough to hold its main lobe.
    const r = Math.max(5, size >> 5);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const c = corr[2 * i];
      s += c;
      s2 += c * c;
    }
    let m = 0;
    for (let y = -r; y <= r; y++) {
      for (let x = -r; x <= r; x++) {
        const c = grid(px + x, py + y);
        s -= c;
        s2 -= c * c;
        m++;
      }
    }
    const mean = s / (n - m);
    const sd = Math.sqrt(Math.max(0, s2 / (n - m) - mean * mean));
    const psr = sd > 0 ? (peak0 - mean) / sd : 0;
    const confidence = Math.min(1, Math.max(0, (psr - PSR_NONE) / (PSR_FULL - PSR_NONE)));

    // Coarse sub-pixel guess from parabolas through the integer peak, then Newton's method on the
    // interpolated correlation, whose main lobe is concave well beyond the coarse guess's error.
    let dx = px + parabolaVertex(grid(px - 1, py), peak0, grid(px + 1, py));
    let dy = py + parabolaVertex(grid(px, py - 1), peak0, grid(px, py + 1));
    for (let it = 0; it < MAX_NEWTON; it++) {
      evaluate(dx, dy);
      const det = at.hxx * at.hyy - at.hxy * at.hxy;
      let sx: number;
      let sy: number;
      if (at.hxx < 0 && det > 0) {
        sx = -(at.hyy * at.gx - at.hxy * at.gy) / det;
        sy = -(at.hxx * at.gy - at.hxy * at.gx) / det;
      } else {
        // Not concave here (should not happen near a real peak): a short uphill step instead.
        const g = Math.hypot(at.gx, at.gy) || 1;
        sx = (0.1 * at.gx) / g;
        sy = (0.1 * at.gy) / g;
      }
      const len = Math.hypot(sx, sy);
      if (len > 0.5) {
        sx *= 0.5 / len;
        sy *= 0.5 / len;
      }
      dx += sx;
      dy += sy;
      if (len < NEWTON_TOL) break;
    }
    // Circular shifts beyond half the frame are the negative ones.
    if (dx >= size / 2) dx -= size;
    if (dy >= size / 2) dy -= size;
    return { dx, dy, peak: sumW > 0 ? (at.c * n) / sumW : 0, confidence };
  }

  return { size, prepare, correlate };
}

/** Offset in (−0.5, 0.5) of the vertex of the parabola through (−1, l), (0, c), (1, r); 0 if degenerate. */
function parabolaVertex(l: number, c: number, r: number): number {
  const d = l - 2 * c + r;
  if (!(d < 0)) return 0;
  const o = (0.5 * (l - r)) / d;
  return o > 0.5 ? 0.5 : o < -0.5 ? -0.5 : o;
}
