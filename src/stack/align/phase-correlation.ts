// Translation between two size×size images by phase correlation (Kuglin & Hines 1975), refined to
// sub-pixel precision with the upsampled matrix-multiply DFT of Guizar-Sicairos, Thurman & Fienup 2008.
import { checkAlignSize, createFft2, hannWindow, loadWindowed, signedBin } from './spectrum.js';

/** A frame's whitened, band-pass weighted spectrum. Opaque: only `correlate` of the same size reads it. */
export interface PreparedSpectrum {
  readonly size: number;
  /** Interleaved complex, row-major; unit phase × √weight per bin. */
  readonly data: Float64Array;
}

export interface Correlation {
  /** Shift such that b(x, y) ≈ a(x − dx, y − dy): content of `a` appears in `b` moved by (+dx, +dy). */
  dx: number;
  dy: number;
  /** Height of the refined correlation peak, 1 for identical (unshifted) images, ~0 when unrelated. */
  peak: number;
  /** 0–1 from the peak-to-sidelobe ratio; above ~0.5 for a real match, near 0 for unrelated images. */
  confidence: number;
}

export interface PhaseCorrelatorOptions {
  /** Frequencies well below this (cycles/pixel) are suppressed. Default 0.01. */
  highPass?: number;
  /** Gaussian roll-off scale (cycles/pixel) of the upper band. Default 0.25. */
  lowPass?: number;
}

export interface PhaseCorrelator {
  readonly size: number;
  prepare(image: Float32Array): PreparedSpectrum;
  correlate(a: PreparedSpectrum, b: PreparedSpectrum): Correlation;
}

// Sub-pixel search: a 21×21 grid at 1/16 px spacing around the coarse peak (re-centred if the maximum
// lands on its rim), then a parabola through the
// best grid point and its neighbours (the peak is smooth at that scale, so the fit error is ≪ 0.01 px).
const FINE_STEPS = 21;
const KAPPA = Number(process.env.KAPPA ?? 1);
const FINE_SPACING = 1 / 16;
// Peak-to-sidelobe ratios mapped to confidence 0 and 1. The correlation of unrelated images is noise-like
// with a maximum of ~4–5σ over 256² pixels; a true match of textured frames scores far above 20.
const PSR_NONE = 7;
const PSR_FULL = 17;

/**
 * Why whitening plus a fixed band-pass: pure phase correlation (|cross spectrum| normalised to 1) weights
 * every frequency the same, so a defocused frame whose low frequencies dominate its energy still locks
 * onto the fine texture both frames share. On top of that a radial weight W(f) = (1 − e^{−(f/f_lo)²})·
 * e^{−(f/f_hi)²} (a) drops the lowest bins, which hold window leakage, vignetting and illumination drift
 * that do not move with the specimen and would pull the estimate to zero shift, and (b) rolls off the
 * highest bins, where a blurred frame holds only noise; the smooth W also makes the correlation peak
 * smooth, which keeps the parabola of the sub-pixel step exact. Since the cross spectrum is normalised,
 * any real filter applied to the images themselves would cancel out: the weighting must act here.
 */
export function createPhaseCorrelator(size: number, opts: PhaseCorrelatorOptions = {}): PhaseCorrelator {
  checkAlignSize(size, 'phase correlation');
  const fLo = opts.highPass ?? 0.01;
  const fHi = opts.lowPass ?? 0.25;
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

  const cross = new Float64Array(2 * n);
  const corr = new Float64Array(2 * n);
  // Twiddles e^{+2πi k x/N} for the fine grid along x and y, and the row-partial sums of the DFT.
  const twX = new Float64Array(2 * FINE_STEPS * size);
  const twY = new Float64Array(2 * FINE_STEPS * size);
  const partial = new Float64Array(2 * FINE_STEPS * size);
  const fine = new Float64Array(FINE_STEPS * FINE_STEPS);

  function prepare(image: Float32Array): PreparedSpectrum {
    const data = new Float64Array(2 * n);
    loadWindowed(image, size, win, data);
    fft2.forward(data);
    let logSum = 0;
    for (let i = 0; i < n; i++) logSum += Math.log(data[2 * i] ** 2 + data[2 * i + 1] ** 2 + 1e-300);
    const eps = KAPPA * Math.exp(logSum / n);
    for (let i = 0; i < n; i++) {
      const re = data[2 * i];
      const im = data[2 * i + 1];
      const k = sqrtW[i] / Math.sqrt(re * re + im * im + eps + 1e-300);
      data[2 * i] = re * k;
      data[2 * i + 1] = im * k;
    }
    return { size, data };
  }

  function fillTwiddles(tw: Float64Array, start: number): void {
    for (let j = 0; j < FINE_STEPS; j++) {
      const x = start + j * FINE_SPACING;
      for (let k = 0; k < size; k++) {
        const ph = (2 * Math.PI * signedBin(k, size) * x) / size;
        tw[2 * (j * size + k)] = Math.cos(ph);
        tw[2 * (j * size + k) + 1] = Math.sin(ph);
      }
    }
  }

  /**
   * Correlation (real part of the inverse DFT of `cross`) on the grid x0 + i/16, y0 + j/16, evaluated
   * directly as a separable matrix product: O(N²·17) instead of a 16× upsampled FFT.
   */
  function fineGrid(x0: number, y0: number): void {
    fillTwiddles(twX, x0);
    fillTwiddles(twY, y0);
    for (let v = 0; v < size; v++) {
      const row = 2 * v * size;
      for (let j = 0; j < FINE_STEPS; j++) {
        const t = 2 * j * size;
        let re = 0;
        let im = 0;
        for (let u = 0; u < size; u++) {
          const cr = cross[row + 2 * u];
          const ci = cross[row + 2 * u + 1];
          const wr = twX[t + 2 * u];
          const wi = twX[t + 2 * u + 1];
          re += cr * wr - ci * wi;
          im += cr * wi + ci * wr;
        }
        partial[2 * (j * size + v)] = re;
        partial[2 * (j * size + v) + 1] = im;
      }
    }
    for (let i = 0; i < FINE_STEPS; i++) {
      const ty = 2 * i * size;
      for (let j = 0; j < FINE_STEPS; j++) {
        const p = 2 * j * size;
        let re = 0;
        for (let v = 0; v < size; v++) {
          re += partial[p + 2 * v] * twY[ty + 2 * v] - partial[p + 2 * v + 1] * twY[ty + 2 * v + 1];
        }
        fine[i * FINE_STEPS + j] = re / n;
      }
    }
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
    const at = (x: number, y: number) => corr[2 * (((y + size) % size) * size + ((x + size) % size))];
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
        const c = at(px + x, py + y);
        s -= c;
        s2 -= c * c;
        m++;
      }
    }
    const mean = s / (n - m);
    const sd = Math.sqrt(Math.max(0, s2 / (n - m) - mean * mean));
    const psr = sd > 0 ? (peak0 - mean) / sd : 0;
    const confidence = Math.min(1, Math.max(0, (psr - PSR_NONE) / (PSR_FULL - PSR_NONE)));

    // Coarse sub-pixel guess from parabolas through the integer peak, then the fine DFT grid around it.
    const cx = px + parabolaVertex(at(px - 1, py), peak0, at(px + 1, py));
    const cy = py + parabolaVertex(at(px, py - 1), peak0, at(px, py + 1));
    const half = ((FINE_STEPS - 1) / 2) * FINE_SPACING;
    let gx = cx - half;
    let gy = cy - half;
    let fb = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      fineGrid(gx, gy);
      fb = 0;
      for (let i = 1; i < fine.length; i++) if (fine[i] > fine[fb]) fb = i;
      const j = fb % FINE_STEPS;
      const i = (fb - j) / FINE_STEPS;
      if (i > 0 && j > 0 && i < FINE_STEPS - 1 && j < FINE_STEPS - 1) break;
      gx += (j - (FINE_STEPS - 1) / 2) * FINE_SPACING;
      gy += (i - (FINE_STEPS - 1) / 2) * FINE_SPACING;
    }
    const fj = fb % FINE_STEPS;
    const fi = (fb - fj) / FINE_STEPS;
    const edge = (k: number) => k === 0 || k === FINE_STEPS - 1;
    const ox = edge(fj) ? 0 : parabolaVertex(fine[fb - 1], fine[fb], fine[fb + 1]);
    const oy = edge(fi) ? 0 : parabolaVertex(fine[fb - FINE_STEPS], fine[fb], fine[fb + FINE_STEPS]);
    let dx = gx + (fj + ox) * FINE_SPACING;
    let dy = gy + (fi + oy) * FINE_SPACING;
    // Circular shifts beyond half the frame are the negative ones.
    if (dx >= size / 2) dx -= size;
    if (dy >= size / 2) dy -= size;
    return { dx, dy, peak: sumW > 0 ? (fine[fb] * n) / sumW : 0, confidence };
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
