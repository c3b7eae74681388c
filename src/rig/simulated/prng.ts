// Seeded pseudo-random numbers for the simulated rig: mulberry32 uniforms, seed mixing and gaussian noise.
// Everything synthetic must be reproducible from a seed, so nothing here touches Math.random.

/** Returns a generator of uniform floats in [0, 1) (mulberry32: tiny state, good enough for textures). */
export function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes integers into one 32-bit seed, so sub-streams (per octave, per frame) stay independent. */
export function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5 | 0;
  for (const p of parts) {
    // Fractional inputs (focus positions in µm) must hash differently, so fold both halves of the value.
    const lo = p | 0;
    const hi = Math.floor(p / 4294967296) ^ Math.round((p - Math.floor(p)) * 1e6);
    for (const v of [lo, hi]) {
      h = Math.imul(h ^ v, 0x01000193);
      h ^= h >>> 13;
      h = Math.imul(h, 0x5bd1e995);
      h ^= h >>> 15;
    }
  }
  return h >>> 0;
}

/** One standard-normal sample (Box–Muller); fine for occasional draws, use GaussianStream for images. */
export function gaussian(rng: () => number): number {
  const u = 1 - rng(); // (0, 1] so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

let normalTable: Float32Array | undefined;

/**
 * 4096 equiprobable normal quantiles: a 12-bit random index into it is a gaussian draw (tails cut at 3.5σ).
 * Small enough (16 KB) to stay in L1 while a frame streams hundreds of MB past it.
 */
function getNormalTable(): Float32Array {
  if (!normalTable) {
    normalTable = new Float32Array(4096);
    let sumSq = 0;
    for (let i = 0; i < 4096; i++) sumSq += (normalTable[i] = inverseNormal((i + 0.5) / 4096)) ** 2;
    // Rescale so the cut tails do not shrink the variance: sigma means sigma.
    const k = 1 / Math.sqrt(sumSq / 4096);
    for (let i = 0; i < 4096; i++) normalTable[i] *= k;
  }
  return normalTable;
}

/**
 * Fast seeded gaussian noise for whole images: a 12 MP RGB frame needs 36 M draws, where Box–Muller's
 * log/sqrt/cos per pair costs several times more than one mulberry32 step and two table lookups.
 */
export class GaussianStream {
  private state: number;
  private readonly table = getNormalTable();

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Writes `count` samples of N(0, sigma²) into `out` starting at index 0. */
  fill(out: Float32Array, sigma: number, count = out.length): void {
    const table = this.table;
    let s = this.state;
    let i = 0;
    while (i < count) {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      t ^= t >>> 14;
      out[i++] = table[t & 0xfff] * sigma;
      if (i < count) out[i++] = table[(t >>> 16) & 0xfff] * sigma;
    }
    this.state = s;
  }
}
