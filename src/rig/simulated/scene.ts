// Synthetic specimen for the simulated microscope: an all-in-focus colour texture plus its surface height map.
// Built from seeded value noise, palettes and anti-aliased shapes so it is deterministic and fast at 12 MP.

import { hashSeed, mulberry32 } from './prng.js';

export interface SceneOptions {
  width: number;
  height: number;
  /** Same seed, same scene, bit for bit. Default 1. */
  seed?: number;
  /** The surface spans exactly [0, depthRangeUm]. Default 100. */
  depthRangeUm?: number;
  /** Approximate fraction of the area covered by flat, uniform-colour ellipses (textureless). Default 0.05. */
  flatFraction?: number;
}

export interface Scene {
  width: number;
  height: number;
  seed: number;
  depthRangeUm: number;
  /** All-in-focus truth: RGB interleaved, linear light, 0..1. */
  texture: Float32Array;
  /** Specimen surface height per pixel in µm, within [0, depthRangeUm]. */
  depthUm: Float32Array;
  /** 1 where the pixel lies fully inside a flat region (anti-aliased rims excluded), else 0. */
  flatMask: Uint8Array;
}

type Rng = () => number;
type Rgb = readonly [number, number, number];

// Sub-stream ids: each part of the scene draws from its own stream so that e.g. changing flatFraction
// leaves the depth map and the shapes untouched.
const Stream = { Palette: 1, Noise: 2, Shapes: 3, Flat: 4, Depth: 5 } as const;

export function makeScene(opts: SceneOptions): Scene {
  const { width: w, height: h } = opts;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0)) {
    throw new RangeError(`scene size must be positive integers, got ${w}×${h}`);
  }
  const seed = opts.seed ?? 1;
  const depthRangeUm = opts.depthRangeUm ?? 100;
  const flatFraction = Math.min(Math.max(opts.flatFraction ?? 0.05, 0), 0.6);
  const rng = (s: number): Rng => mulberry32(hashSeed(seed, s));

  const texture = paintNoise(w, h, rng(Stream.Palette), rng(Stream.Noise));
  const paint = new Painter(texture, w, h);
  paintShapes(paint, rng(Stream.Shapes));
  const flatMask = new Uint8Array(w * h);
  paintFlatRegions(paint, flatMask, flatFraction, rng(Stream.Flat));
  const depthUm = makeDepth(w, h, depthRangeUm, rng(Stream.Depth));
  return { width: w, height: h, seed, depthRangeUm, texture, depthUm, flatMask };
}

function hsvToLinear(hue: number, s: number, v: number): Rgb {
  const f = (n: number) => {
    const k = (n + hue * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  // Squaring is a cheap stand-in for the sRGB decode: palettes are picked perceptually, stored linear.
  return [f(5) ** 2, f(3) ** 2, f(1) ** 2];
}

/** A cyclic palette as a 1024-entry RGB lookup table, so a noise value wraps through several hues. */
function makePalette(rng: Rng): Float32Array {
  const stops: Rgb[] = [];
  const n = 5 + Math.floor(rng() * 3);
  const baseHue = rng();
  for (let i = 0; i < n; i++) {
    stops.push(hsvToLinear(baseHue + i / n + (rng() - 0.5) * 0.3, 0.45 + 0.55 * rng(), 0.4 + 0.55 * rng()));
  }
  const lut = new Float32Array(1024 * 3);
  for (let i = 0; i < 1024; i++) {
    const t = (i / 1024) * n;
    const [a, b, f] = [stops[Math.floor(t)], stops[(Math.floor(t) + 1) % n], t - Math.floor(t)];
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = a[c] + (b[c] - a[c]) * f;
  }
  return lut;
}

/**
 * Adds amp × value noise (lattice spacing `cell` px, values in [-amp, amp]) into acc. The lattice rows are
 * blended once per image row, leaving one lerp per pixel: cheap enough for many octaves at 12 MP.
 */
function addValueNoise(acc: Float32Array, w: number, h: number, cell: number, amp: number, rng: Rng): void {
  const lw = Math.ceil(w / cell) + 2;
  const lat = new Float32Array(lw * (Math.ceil(h / cell) + 2));
  for (let i = 0; i < lat.length; i++) lat[i] = (rng() * 2 - 1) * amp;
  const smooth = (f: number) => f * f * (3 - 2 * f);
  // Random phase so octaves' lattice corners do not line up into a visible grid.
  const [ox, oy] = [rng() * cell, rng() * cell];
  const [ix, fx] = [new Int32Array(w), new Float32Array(w)];
  for (let x = 0; x < w; x++) {
    const u = (x + ox) / cell;
    ix[x] = Math.floor(u);
    fx[x] = smooth(u - ix[x]);
  }
  const row = new Float32Array(lw);
  for (let y = 0; y < h; y++) {
    const v = (y + oy) / cell;
    const [r0, fy] = [Math.floor(v) * lw, smooth(v - Math.floor(v))];
    for (let j = 0; j < lw; j++) row[j] = lat[r0 + j] + (lat[r0 + lw + j] - lat[r0 + j]) * fy;
    for (let x = 0, o = y * w; x < w; x++) {
      const i = ix[x];
      acc[o + x] += row[i] + (row[i + 1] - row[i]) * fx[x];
    }
  }
}

/** Fractal value noise from `maxCell` down to `minCell` px; amplitude ∝ cell^gain keeps every scale visible. */
function fbm(w: number, h: number, maxCell: number, minCell: number, gain: number, rng: Rng): Float32Array {
  const acc = new Float32Array(w * h);
  let total = 0;
  for (let cell = maxCell; cell >= minCell; cell /= 2) {
    const amp = cell ** gain;
    addValueNoise(acc, w, h, cell, amp, rng);
    total += amp;
  }
  for (let i = 0; i < acc.length; i++) acc[i] /= total;
  return acc;
}

/** Base layer: two cyclic palettes indexed by multi-scale noise, mixed by a coarse field, times fine grain. */
function paintNoise(w: number, h: number, paletteRng: Rng, rng: Rng): Float32Array {
  const [palA, palB] = [makePalette(paletteRng), makePalette(paletteRng)];
  const big = Math.max(w, h);
  const hue = fbm(w, h, Math.max(8, big / 3), 3, 0.45, rng);
  const tone = fbm(w, h, 48, 1.5, 0.25, rng);
  const mix = fbm(w, h, Math.max(16, big / 4), Math.max(8, big / 16), 1, rng);
  const bands = 2.5;
  const tex = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    let t = hue[i] * bands + 8;
    t -= Math.floor(t);
    const k = ((t * 1024) | 0) * 3;
    const m = Math.min(Math.max(0.5 + mix[i] * 3, 0), 1);
    const g = Math.min(Math.max(0.62 + tone[i] * 1.6, 0.2), 1);
    const o = i * 3;
    tex[o] = (palA[k] + (palB[k] - palA[k]) * m) * g;
    tex[o + 1] = (palA[k + 1] + (palB[k + 1] - palA[k + 1]) * m) * g;
    tex[o + 2] = (palA[k + 2] + (palB[k + 2] - palA[k + 2]) * m) * g;
  }
  return tex;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Anti-aliased shapes blended over the texture; coverage is 1 px of linear falloff at every edge. */
class Painter {
  constructor(
    readonly tex: Float32Array,
    readonly w: number,
    readonly h: number,
  ) {}

  /** Clipped integer range [lo, hi] of rows or columns covering [a, b]. */
  private clip(a: number, b: number, size: number): [number, number] {
    return [Math.max(0, Math.floor(a)), Math.min(size - 1, Math.ceil(b))];
  }

  private put(x: number, y: number, col: Rgb, a: number): void {
    if (a <= 0) return;
    const o = (y * this.w + x) * 3;
    const t = this.tex;
    t[o] += (col[0] - t[o]) * a;
    t[o + 1] += (col[1] - t[o + 1]) * a;
    t[o + 2] += (col[2] - t[o + 2]) * a;
  }

  /** Filled disc, or a ring of half-width `ring` when ring > 0. */
  disc(cx: number, cy: number, r: number, ring: number, col: Rgb, alpha: number): void {
    const R = r + ring + 1;
    const [y0, y1] = this.clip(cy - R, cy + R, this.h);
    for (let y = y0; y <= y1; y++) {
      const half = Math.sqrt(Math.max(0, R * R - (y - cy) ** 2));
      const [x0, x1] = this.clip(cx - half, cx + half, this.w);
      for (let x = x0; x <= x1; x++) {
        const d = Math.sqrt((x - cx) ** 2 + (y - cy) ** 2);
        this.put(x, y, col, alpha * clamp01(ring > 0 ? ring + 0.5 - Math.abs(d - r) : r + 0.5 - d));
      }
    }
  }

  /** Capsule of half-width hw from (ax, ay) to (bx, by). */
  segment(ax: number, ay: number, bx: number, by: number, hw: number, col: Rgb, alpha: number): void {
    const [dx, dy, pad] = [bx - ax, by - ay, hw + 1];
    const len2 = dx * dx + dy * dy || 1e-9;
    const [y0, y1] = this.clip(Math.min(ay, by) - pad, Math.max(ay, by) + pad, this.h);
    for (let y = y0; y <= y1; y++) {
      // Only the stretch of centre line within `pad` rows of y can touch this row: long diagonal
      // strokes then cost their area, not their bounding box.
      let [ta, tb] = [0, 1];
      if (Math.abs(dy) > 1e-9) {
        const [p, q] = [(y - pad - ay) / dy, (y + pad - ay) / dy];
        [ta, tb] = [Math.max(0, Math.min(p, q)), Math.min(1, Math.max(p, q))];
      }
      const [xa, xb] = [ax + dx * ta, ax + dx * tb];
      const [x0, x1] = this.clip(Math.min(xa, xb) - pad, Math.max(xa, xb) + pad, this.w);
      for (let x = x0; x <= x1; x++) {
        const t = clamp01(((x - ax) * dx + (y - ay) * dy) / len2);
        const d = Math.sqrt((x - ax - dx * t) ** 2 + (y - ay - dy * t) ** 2);
        this.put(x, y, col, alpha * clamp01(hw + 0.5 - d));
      }
    }
  }

  /** Opaque ellipse; marks `mask` where the pixel is fully inside (the rim is anti-aliased, not flat). */
  ellipse(cx: number, cy: number, rx: number, ry: number, col: Rgb, mask: Uint8Array): void {
    const rmin = Math.min(rx, ry);
    const [y0, y1] = this.clip(cy - ry - 1, cy + ry + 1, this.h);
    const [x0, x1] = this.clip(cx - rx - 1, cx + rx + 1, this.w);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Signed distance approximated by scaling the normalised radius by the shorter semi-axis.
        const d = (Math.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - 1) * rmin;
        this.put(x, y, col, clamp01(0.5 - d));
        if (d <= -0.5) mask[y * this.w + x] = 1;
      }
    }
  }
}

/** Sharp edges at many scales on top of the noise: discs, rings, bars, thin wandering strokes and specks. */
function paintShapes(paint: Painter, rng: Rng): void {
  const { w, h } = paint;
  const area = w * h;
  const small = Math.min(w, h);
  const colour = (): Rgb => hsvToLinear(rng(), 0.3 + 0.7 * rng(), 0.15 + 0.85 * rng());
  const logUniform = (a: number, b: number) => a * (b / a) ** rng();
  for (let n = Math.max(12, Math.round(area / 15000)); n > 0; n--) {
    const r = logUniform(2, Math.max(3, small / 14));
    const ring = rng() < 0.35 ? 0.5 + rng() * 1.5 : 0;
    // Partial alpha on filled discs keeps the noise detail visible through them: no accidental flat areas.
    paint.disc(rng() * w, rng() * h, r, ring, colour(), ring ? 0.9 : 0.35 + 0.45 * rng());
  }
  for (let n = Math.max(6, Math.round(area / 20000)); n > 0; n--) {
    const [x, y, a] = [rng() * w, rng() * h, rng() * 2 * Math.PI];
    const [len, hw] = [logUniform(8, Math.max(10, small / 4)), 1 + rng() * 3];
    paint.segment(x, y, x + Math.cos(a) * len, y + Math.sin(a) * len, hw, colour(), 0.5 + 0.5 * rng());
  }
  for (let n = Math.max(6, Math.round(area / 30000)); n > 0; n--) {
    let [x, y, a] = [rng() * w, rng() * h, rng() * 2 * Math.PI];
    const col = colour();
    const hw = 0.3 + rng() * 0.4;
    for (let k = 4 + Math.floor(rng() * 12); k > 0; k--) {
      const len = 4 + rng() * 14;
      a += (rng() - 0.5) * 1.2;
      const [nx, ny] = [x + Math.cos(a) * len, y + Math.sin(a) * len];
      paint.segment(x, y, nx, ny, hw, col, 1);
      [x, y] = [nx, ny];
    }
  }
  for (let n = Math.max(20, Math.round(area / 400)); n > 0; n--) {
    paint.disc(rng() * w, rng() * h, 0.6 + rng() * 1.2, 0, colour(), 0.7 + 0.3 * rng());
  }
}

/** Uniform-colour ellipses painted last: the textureless patches where no focus measure has signal. */
function paintFlatRegions(paint: Painter, mask: Uint8Array, f: number, rng: Rng): void {
  if (f <= 0) return;
  const { w, h } = paint;
  const count = 1 + Math.floor(rng() * 2);
  for (let n = 0; n < count; n++) {
    const aspect = 0.6 + rng();
    const a = (f * w * h) / count / Math.PI;
    const rx = Math.min(Math.sqrt(a * aspect), w * 0.45);
    const ry = Math.min(Math.sqrt(a / aspect), h * 0.45);
    const cx = rx + 1 + rng() * Math.max(0, w - 2 * rx - 2);
    const cy = ry + 1 + rng() * Math.max(0, h - 2 * ry - 2);
    paint.ellipse(cx, cy, rx, ry, hsvToLinear(rng(), 0.2 + 0.5 * rng(), 0.35 + 0.4 * rng()), mask);
  }
}

/**
 * Surface height: tilted plane + gaussian hills (smooth), then a raised rotated-rectangle plateau whose
 * rim is a true step, so a stack has each region sharp in a different frame and a depth discontinuity.
 */
function makeDepth(w: number, h: number, rangeUm: number, rng: Rng): Float32Array {
  const s = Math.max(w, h);
  const depth = new Float32Array(w * h);
  const tilt = rng() * Math.PI * 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      depth[y * w + x] = ((x - w / 2) * Math.cos(tilt) + (y - h / 2) * Math.sin(tilt)) / s;
  }
  for (let n = 3 + Math.floor(rng() * 3); n > 0; n--) {
    // Separable gaussian: exp(-(dx²+dy²)) = ex(x)·ey(y), one multiply-add per pixel per hill.
    const [cx, cy, sig] = [rng() * w, rng() * h, (0.06 + rng() * 0.12) * s];
    const amp = (rng() < 0.3 ? -1 : 1) * (0.2 + rng() * 0.3);
    const ex = new Float32Array(w);
    for (let x = 0; x < w; x++) ex[x] = Math.exp(-((x - cx) ** 2) / (2 * sig * sig));
    for (let y = 0; y < h; y++) {
      const ey = amp * Math.exp(-((y - cy) ** 2) / (2 * sig * sig));
      const o = y * w;
      for (let x = 0; x < w; x++) depth[o + x] += ey * ex[x];
    }
  }
  normalise(depth, 0, 0.7);
  const [px, py] = [w * (0.3 + rng() * 0.4), h * (0.3 + rng() * 0.4)];
  const [ha, hb] = [(0.1 + rng() * 0.08) * s, (0.06 + rng() * 0.06) * Math.min(w, h)];
  const rot = rng() * Math.PI;
  const [c, sn] = [Math.cos(rot), Math.sin(rot)];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = (x - px) * c + (y - py) * sn;
      const v = (y - py) * c - (x - px) * sn;
      if (Math.abs(u) <= ha && Math.abs(v) <= hb) depth[y * w + x] += 0.3;
    }
  }
  normalise(depth, 0, rangeUm);
  return depth;
}

/** [min, max] of an array (plain loop: this runs over 12 M depths, where reduce with tuples is 10× slower). */
export function valueRange(a: Float32Array): [number, number] {
  let [min, max] = [Infinity, -Infinity];
  for (let i = 0; i < a.length; i++) {
    if (a[i] < min) min = a[i];
    if (a[i] > max) max = a[i];
  }
  return [min, max];
}

function normalise(a: Float32Array, lo: number, hi: number): void {
  const [min, max] = valueRange(a);
  const k = max > min ? (hi - lo) / (max - min) : 0;
  // Clamped because float rounding can overshoot by an ulp, and callers rely on the exact range.
  for (let i = 0; i < a.length; i++) a[i] = Math.min(Math.max(lo + (a[i] - min) * k, lo), hi);
}
