// AssemblyScript (built with kernels.ts, which re-exports these): the similarity estimator's per-pixel
// loops (../log-polar.ts refine, ../spectrum.ts flatBand and convolveSeparable) on f32 images that
// ../simd-refine.ts keeps in this module's memory. Their JavaScript twins stay the reference.
//
// Why: the refinement samples `moving` bicubically ~400 k times per frame; JavaScript spends ~100 ns a
// sample there, 128-bit SIMD takes the 16 taps as four 4-lane loads. Sums stay f64, as in the twins.

// Keys (a = −0.5) weights of the taps at −1, 0, 1, 2 as cubics in the fraction f, per lane:
// w(f) = ((C3·f + C2)·f + C1)·f + C0.
const C3 = f32x4(-0.5, 1.5, -1.5, 0.5);
const C2 = f32x4(1.0, -2.5, 2.0, -0.5);
const C1 = f32x4(-0.5, 0.0, 0.5, 0.0);
const C0 = f32x4(0.0, 1.0, 0.0, 0.0);

function keysWeights(f: f32): v128 {
  const t = f32x4.splat(f);
  return f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(C3, t), C2), t), C1), t), C0);
}

/** Bicubic sample of the size×size f32 image at `src` at (u, v), 1 ≤ u, v < size − 2 (as bicubicInterior). */
function bicubic(src: usize, size: i32, u: f64, v: f64): f64 {
  const fu = Math.floor(u);
  const fv = Math.floor(v);
  const wu = keysWeights(<f32>(u - fu));
  const wv = keysWeights(<f32>(v - fv));
  const row = (<usize>size) << 2;
  const p = src + ((<usize>((<i32>fv - 1) * size + <i32>fu - 1)) << 2);
  let col = f32x4.mul(v128.load(p), v128.shuffle<f32>(wv, wv, 0, 0, 0, 0));
  col = f32x4.add(col, f32x4.mul(v128.load(p + row), v128.shuffle<f32>(wv, wv, 1, 1, 1, 1)));
  col = f32x4.add(col, f32x4.mul(v128.load(p + 2 * row), v128.shuffle<f32>(wv, wv, 2, 2, 2, 2)));
  col = f32x4.add(col, f32x4.mul(v128.load(p + 3 * row), v128.shuffle<f32>(wv, wv, 3, 3, 3, 3)));
  const d = f32x4.mul(col, wu);
  const pair = f32x4.add(d, v128.shuffle<f32>(d, d, 2, 3, 0, 1));
  return <f64>(f32x4.extract_lane(pair, 0) + f32x4.extract_lane(pair, 1));
}

/**
 * The refinement's Gauss–Newton normal matrix and sample mask (log-polar.ts refine, first loop): over
 * every step-th pixel (x, y) in [2, size − 2)², with (u, v) its start position in `moving`, a pixel is
 * used if lo ≤ u, v ≤ hi and neither band marks it; `mask` gets 1/0, and `h` (7 × 8 f64) the sums of
 * J·Jᵀ, J = [(gx·X + gy·Y)/s, (gy·X − gx·Y)/s, gx, gy, refS, 1, lap], X, Y about the centre.
 */
export function refineHessian(
  refS: usize,
  gx: usize,
  gy: usize,
  lap: usize,
  refBand: usize,
  movBand: usize,
  mask: usize,
  size: i32,
  step: i32,
  a: f64,
  b: f64,
  tx: f64,
  ty: f64,
  lo: f64,
  hi: f64,
  h: usize,
): void {
  for (let i = 0; i < 56; i++) store<f64>(h + ((<usize>i) << 3), 0);
  const c = (<f64>size - 1) / 2;
  const s = <f64>size;
  const end = size - 2;
  for (let y = 2; y < end; y += step) {
    const Y = <f64>y - c;
    let u = a * (2 - c) - b * Y + c + tx;
    let v = b * (2 - c) + a * Y + c + ty;
    for (let x = 2, i = y * size + 2; x < end; x += step, i += step, u += <f64>step * a, v += <f64>step * b) {
      const inside = u >= lo && v >= lo && u <= hi && v <= hi;
      const use =
        inside &&
        load<u8>(refBand + <usize>i) == 0 &&
        load<u8>(movBand + <usize>(<i32>Math.floor(v + 0.5) * size + <i32>Math.floor(u + 0.5))) == 0;
      store<u8>(mask + <usize>i, use ? 1 : 0);
      if (!use) continue;
      const X = <f64>x - c;
      const q = (<usize>i) << 2;
      const ex = <f64>load<f32>(gx + q);
      const ey = <f64>load<f32>(gy + q);
      const j0 = (ex * X + ey * Y) / s;
      const j1 = (ey * X - ex * Y) / s;
      const v01 = f64x2(j0, j1);
      const v23 = f64x2(ex, ey);
      const v45 = f64x2(<f64>load<f32>(refS + q), 1);
      const v67 = f64x2(<f64>load<f32>(lap + q), 0);
      accumulateRow(h, 0, j0, v01, v23, v45, v67);
      accumulateRow(h, 1, j1, v01, v23, v45, v67);
      accumulateRow(h, 2, ex, v01, v23, v45, v67);
      accumulateRow(h, 3, ey, v01, v23, v45, v67);
      accumulateRow(h, 4, f64x2.extract_lane(v45, 0), v01, v23, v45, v67);
      accumulateRow(h, 5, 1, v01, v23, v45, v67);
      accumulateRow(h, 6, f64x2.extract_lane(v67, 0), v01, v23, v45, v67);
    }
  }
}

function accumulateRow(h: usize, p: i32, jp: f64, v01: v128, v23: v128, v45: v128, v67: v128): void {
  const row = h + ((<usize>p) << 6);
  const k = f64x2.splat(jp);
  v128.store(row, f64x2.add(v128.load(row), f64x2.mul(k, v01)));
  v128.store(row, f64x2.add(v128.load(row, 16), f64x2.mul(k, v23)), 16);
  v128.store(row, f64x2.add(v128.load(row, 32), f64x2.mul(k, v45)), 32);
  v128.store(row, f64x2.add(v128.load(row, 48), f64x2.mul(k, v67)), 48);
}

/**
 * One Gauss–Newton gradient (log-polar.ts refine, iteration loop): over the masked pixels, e = movS
 * sampled bicubically at W(x) − refS(x); the 7 f64 at `g` get Σ J·e (J as in refineHessian, without
 * the 1/size on the first two, which the caller applies).
 */
export function refineGradient(
  movS: usize,
  refS: usize,
  gx: usize,
  gy: usize,
  lap: usize,
  mask: usize,
  size: i32,
  step: i32,
  a: f64,
  b: f64,
  tx: f64,
  ty: f64,
  g: usize,
): void {
  const c = (<f64>size - 1) / 2;
  const end = size - 2;
  let g0: f64 = 0, g1: f64 = 0, g2: f64 = 0, g3: f64 = 0, g4: f64 = 0, g5: f64 = 0, g6: f64 = 0; // prettier-ignore
  for (let y = 2; y < end; y += step) {
    const Y = <f64>y - c;
    let u = a * (2 - c) - b * Y + c + tx;
    let v = b * (2 - c) + a * Y + c + ty;
    for (let x = 2, i = y * size + 2; x < end; x += step, i += step, u += <f64>step * a, v += <f64>step * b) {
      if (load<u8>(mask + <usize>i) == 0) continue;
      const q = (<usize>i) << 2;
      const r = <f64>load<f32>(refS + q);
      const e = bicubic(movS, size, u, v) - r;
      const ex = <f64>load<f32>(gx + q) * e;
      const ey = <f64>load<f32>(gy + q) * e;
      const X = <f64>x - c;
      g0 += ex * X + ey * Y;
      g1 += ey * X - ex * Y;
      g2 += ex;
      g3 += ey;
      g4 += r * e;
      g5 += e;
      g6 += <f64>load<f32>(lap + q) * e;
    }
  }
  store<f64>(g, g0);
  store<f64>(g, g1, 8);
  store<f64>(g, g2, 16);
  store<f64>(g, g3, 24);
  store<f64>(g, g4, 32);
  store<f64>(g, g5, 40);
  store<f64>(g, g6, 48);
}

/**
 * spectrum.ts flatBand: `out` (u8) marks every pixel within r (Chebyshev) of one equal to all its 8
 * neighbours. `tmp` is scratch of size² bytes; size is a multiple of 16.
 */
export function flatBand(src: usize, size: i32, r: i32, out: usize, tmp: usize): void {
  const n = <usize>(size * size);
  memory.fill(tmp, 0, n);
  const row = (<usize>size) << 2;
  const one = i8x16.splat(1);
  for (let y = 1; y < size - 1; y++) {
    let x = 1;
    const base = <usize>(y * size);
    for (; x + 4 <= size - 1; x += 4) {
      const p = src + ((base + <usize>x) << 2);
      const centre = v128.load(p);
      let eq = v128.and(f32x4.eq(v128.load(p - 4), centre), f32x4.eq(v128.load(p + 4), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p - row), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p + row), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p - row - 4), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p - row + 4), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p + row - 4), centre));
      eq = v128.and(eq, f32x4.eq(v128.load(p + row + 4), centre));
      const narrow = i16x8.narrow_i32x4_s(eq, eq);
      v128.store32_lane(tmp + base + <usize>x, v128.and(i8x16.narrow_i16x8_s(narrow, narrow), one), 0);
    }
    for (; x < size - 1; x++) {
      const p = src + ((base + <usize>x) << 2);
      const centre = load<f32>(p);
      const flat =
        load<f32>(p - 4) == centre &&
        load<f32>(p + 4) == centre &&
        load<f32>(p - row) == centre &&
        load<f32>(p + row) == centre &&
        load<f32>(p - row - 4) == centre &&
        load<f32>(p - row + 4) == centre &&
        load<f32>(p + row - 4) == centre &&
        load<f32>(p + row + 4) == centre;
      store<u8>(tmp + base + <usize>x, flat ? 1 : 0);
    }
  }
  // Rows: running counts of marked pixels in the window, tmp → out.
  for (let y = 0; y < size; y++) {
    const line = <usize>(y * size);
    let count = 0;
    for (let k = 0; k < r && k < size; k++) count += load<u8>(tmp + line + <usize>k);
    for (let k = 0; k < size; k++) {
      if (k + r < size) count += load<u8>(tmp + line + <usize>(k + r));
      if (k - r - 1 >= 0) count -= load<u8>(tmp + line + <usize>(k - r - 1));
      store<u8>(out + line + <usize>k, count > 0 ? 1 : 0);
    }
  }
  // Columns, 16 at a time with running counts per lane: out → tmp, then copied back.
  const counts = tmp;
  for (let x = 0; x < size; x += 16) {
    let count = i8x16.splat(0);
    const col = <usize>x;
    for (let k = 0; k < r && k < size; k++)
      count = i8x16.add(count, v128.load(out + <usize>(k * size) + col));
    for (let k = 0; k < size; k++) {
      if (k + r < size) count = i8x16.add(count, v128.load(out + <usize>((k + r) * size) + col));
      if (k - r - 1 >= 0) count = i8x16.sub(count, v128.load(out + <usize>((k - r - 1) * size) + col));
      v128.store(counts + <usize>(k * size) + col, v128.and(i8x16.ne(count, i8x16.splat(0)), one));
    }
  }
  memory.copy(out, counts, n);
}

/**
 * spectrum.ts convolveSeparable on f32: `taps` f32 weights at `kernel` (symmetric, odd), edges
 * clamped; `tmp` holds the horizontal pass; `src` and `dst` may be the same.
 */
export function convolve(src: usize, size: i32, kernel: usize, taps: i32, tmp: usize, dst: usize): void {
  const r = taps >> 1;
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    const o = src + ((<usize>(y * size)) << 2);
    const t = tmp + ((<usize>(y * size)) << 2);
    let x = 0;
    for (; x < size; x++) {
      if (x >= r && x + 4 + r <= size) break;
      let s: f32 = 0;
      for (let k = 0; k < taps; k++) {
        const j = min(last, max(0, x + k - r));
        s += load<f32>(kernel + ((<usize>k) << 2)) * load<f32>(o + ((<usize>j) << 2));
      }
      store<f32>(t + ((<usize>x) << 2), s);
    }
    for (; x + 4 + r <= size; x += 4) {
      const p = o + ((<usize>(x - r)) << 2);
      let acc = f32x4.splat(0);
      for (let k = 0; k < taps; k++)
        acc = f32x4.add(
          acc,
          f32x4.mul(v128.load_splat<f32>(kernel + ((<usize>k) << 2)), v128.load(p + ((<usize>k) << 2))),
        );
      v128.store(t + ((<usize>x) << 2), acc);
    }
    for (; x < size; x++) {
      let s: f32 = 0;
      for (let k = 0; k < taps; k++) {
        const j = min(last, max(0, x + k - r));
        s += load<f32>(kernel + ((<usize>k) << 2)) * load<f32>(o + ((<usize>j) << 2));
      }
      store<f32>(t + ((<usize>x) << 2), s);
    }
  }
  // Columns four at a time (size is a power of two ≥ 16).
  for (let y = 0; y < size; y++) {
    const out = dst + ((<usize>(y * size)) << 2);
    for (let x = 0; x < size; x += 4) {
      let acc = f32x4.splat(0);
      for (let k = 0; k < taps; k++) {
        const j = min(last, max(0, y + k - r));
        acc = f32x4.add(
          acc,
          f32x4.mul(
            v128.load_splat<f32>(kernel + ((<usize>k) << 2)),
            v128.load(tmp + ((<usize>(j * size + x)) << 2)),
          ),
        );
      }
      v128.store(out + ((<usize>x) << 2), acc);
    }
  }
}
