// AssemblyScript (compiled to WebAssembly with SIMD by `npm run build:wasm`, not by tsc): the pixel
// loops over whole 8-bit RGB frames — the two passes of the warp (geometry in ../resample.ts, driven by
// ../simd-warp.ts), the aligner's downscale (../simd-bin.ts), the focus measure's cells
// (../../merge/simd-cells.ts) and the default focus measure (measure.ts), the pyramid's luma (luma.ts)
// and its REDUCE and EXPAND (pyramid.ts) — on rows their callers copy in.
//
// Why WebAssembly: the warp is 36 M samples × 8 taps per 12 MP frame; scalar JavaScript needs ~1 s of
// CPU for it, 128-bit SIMD does 8–16 samples per instruction. Memory layout is the caller's: every
// pointer below is a byte offset into this module's memory, and nothing here allocates.

/**
 * Pass 1, along source rows: intermediate(x, r) = Σ w_i · source(x0 − 1 + i, r), the source column
 * xs = a·x + b0 + slope·r, x0 = ⌊xs⌋. Source rows carry `pad` replicated edge pixels on each side, so
 * the four taps (and the 16-byte load reading 5⅓ pixels) never leave the row. `table` holds, per
 * 1/256 of a pixel of phase (257 entries of 32 bytes), the taps as i16 Q(shift) with each channel's
 * gain folded in: [R w0..w3, G w0..w3], [B w0..w3, 0, 0, 0, 0].
 */
export function horizontal(
  src: usize,
  srcStride: i32,
  pad: i32,
  srcWidth: i32,
  dst: usize,
  dstStride: i32,
  width: i32,
  rows: i32,
  firstRow: i32,
  a: f64,
  b0: f64,
  slope: f64,
  table: usize,
  shift: i32,
): void {
  const lowest = -pad;
  const highest = srcWidth + pad - 6;
  const round = i32x4.splat(1 << (shift - 1));
  // Gathers each channel's four taps together: R0 R1 R2 R3 G0 … B3, then zeros.
  const byChannel = v128(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1);
  const packTwo = v128(0, 1, 2, 4, 5, 6, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  // Positions in fixed point with 24 fraction bits: stepping by a costs an add per pixel instead of a
  // float-to-integer conversion, and drifts by < 0.001 px across 8000 pixels.
  const step = <i64>(a * 16777216.0);
  const lowest64 = <i64>lowest;
  const highest64 = <i64>highest;
  for (let row = 0; row < rows; row++) {
    const b = b0 + slope * <f64>(firstRow + row);
    const srcRow = src + <usize>(row * srcStride) + <usize>(pad * 3);
    let out = dst + <usize>(row * dstStride);
    // Rounded to the nearest 1/256 px: the rounding carries into the whole pixel.
    let position = <i64>Math.floor(b * 16777216.0) + 32768;
    // Rows whose taps all lie within the padding (the shifts and scales a stack breathes by) skip the
    // clamp; positions move monotonically along a row, so its ends decide.
    const sFirst = (position >> 24) - 1;
    const sLast = ((position + <i64>(width - 1) * step) >> 24) - 1;
    const inside = min(sFirst, sLast) >= lowest64 && max(sFirst, sLast) <= highest64;
    // Two pixels a step: their sums narrow together and leave in one 8-byte store.
    let x = 0;
    if (inside) {
      for (; x + 1 < width; x += 2, position += 2 * step, out += 6) {
        const a = tapSums(srcRow, position, table, byChannel);
        const b = tapSums(srcRow, position + step, table, byChannel);
        storePair(out, a, b, round, shift, packTwo);
      }
    } else {
      for (; x + 1 < width; x += 2, position += 2 * step, out += 6) {
        const a = pixelSums(srcRow, position, lowest64, highest64, table, byChannel);
        const b = pixelSums(srcRow, position + step, lowest64, highest64, table, byChannel);
        storePair(out, a, b, round, shift, packTwo);
      }
    }
    if (x < width) {
      const a = i32x4.shr_s(
        i32x4.add(pixelSums(srcRow, position, lowest64, highest64, table, byChannel), round),
        shift,
      );
      const narrow = i16x8.narrow_i32x4_s(a, a);
      v128.store32_lane(out, i8x16.narrow_i16x8_u(narrow, narrow), 0);
    }
  }
}

/** Two pixels' sums scaled, narrowed and stored: [Ra Ga Ba · Rb Gb Bb ·] → 6 bytes (2 more overwritten next). */
function storePair(out: usize, a: v128, b: v128, round: v128, shift: i32, packTwo: v128): void {
  const wide = i16x8.narrow_i32x4_s(
    i32x4.shr_s(i32x4.add(a, round), shift),
    i32x4.shr_s(i32x4.add(b, round), shift),
  );
  v128.store64_lane(out, i8x16.swizzle(i8x16.narrow_i16x8_u(wide, wide), packTwo), 0);
}

/** One output pixel of pass 1 before scaling, its taps clamped to the padded row. */
function pixelSums(
  srcRow: usize,
  position: i64,
  lowest: i64,
  highest: i64,
  table: usize,
  byChannel: v128,
): v128 {
  let s = (position >> 24) - 1;
  s = s < lowest ? lowest : s > highest ? highest : s;
  return taps4(srcRow + <usize>(<i32>s * 3), <i32>((position >> 16) & 255), table, byChannel);
}

/** One output pixel of pass 1 before scaling, its taps known to lie within the padded row. */
function tapSums(srcRow: usize, position: i64, table: usize, byChannel: v128): v128 {
  return taps4(
    srcRow + <usize>((<i32>(position >> 24) - 1) * 3),
    <i32>((position >> 16) & 255),
    table,
    byChannel,
  );
}

/** [ΣR, ΣG, ΣB, 0] over the four pixels at `at`, weighted by the table's entry for `phase`. */
function taps4(at: usize, phase: i32, table: usize, byChannel: v128): v128 {
  const pixels = i8x16.swizzle(v128.load(at), byChannel);
  const w = table + <usize>(phase << 5);
  const rg = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(pixels), v128.load(w));
  const bz = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(pixels), v128.load(w, 16));
  // rg = [R01, R23, G01, G23], bz = [B01, B23, 0, 0] → [R, G, B, 0].
  return i32x4.add(v128.shuffle<i32>(rg, bz, 0, 2, 4, 6), v128.shuffle<i32>(rg, bz, 1, 3, 5, 7));
}

/**
 * Pass 2, down the columns: out(x, y) = Σ w_i · intermediate(x, y0 − 1 + i) with Y = m10·x + m11·y + c,
 * y0 = ⌊Y⌋, 16 bytes at a time. With rotation (m10 ≠ 0) Y is taken at each 16-byte block's centre,
 * which the caller allows only while that moves a sample by less than 0.01 px. `table`: per 1/256 of
 * a pixel, the four taps as i16 Q14, times the brightest channel's gain (below 2; pass 1 applied each
 * channel's gain divided by it, so no sample is clamped at 255 before the gain is complete). Samples
 * are scaled by 128; q15mulr with Q14 taps leaves them scaled by 64: 6 fraction bits. Intermediate
 * rows form a ring: source row r (any integer, rows beyond the frame included) is at slot r & ringMask.
 */
export function vertical(
  inter: usize,
  interStride: i32,
  ringMask: i32,
  dst: usize,
  dstStride: i32,
  rowBytes: i32,
  channels: i32,
  y0: i32,
  rows: i32,
  m10: f64,
  m11: f64,
  c: f64,
  table: usize,
): void {
  const half = i16x8.splat(32);
  const blockCentre = 8.0 / <f64>channels - 0.5;
  for (let row = 0; row < rows; row++) {
    const yRow = m11 * <f64>(y0 + row) + c;
    const out = dst + <usize>(row * dstStride);
    if (m10 == 0) rowBlocks(inter, interStride, ringMask, out, 0, rowBytes, yRow, table, half);
    else {
      const step = m10 * (16.0 / <f64>channels);
      turnedRow(inter, interStride, ringMask, out, rowBytes, yRow + m10 * blockCentre, step, table, half);
    }
  }
}

/**
 * One output row under rotation: the row position moves by `step` per 16-byte block. Kept in fixed
 * point (24 fraction bits, rounded to 1/256 as rowBlocks rounds), so a block costs an add, and the four
 * source rows are looked up again only when the whole part changes (every ~100 blocks at 0.1°).
 */
function turnedRow(
  inter: usize,
  interStride: i32,
  ringMask: i32,
  out: usize,
  rowBytes: i32,
  y: f64,
  step: f64,
  table: usize,
  half: v128,
): void {
  let position = <i64>Math.floor(y * 16777216.0) + 32768;
  const delta = <i64>Math.round(step * 16777216.0);
  let whole = i32.MIN_VALUE;
  let r0: usize = 0, r1: usize = 0, r2: usize = 0, r3: usize = 0; // prettier-ignore
  // Each tap's i16 weight copied to all eight lanes.
  const tap0 = v128(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
  const tap1 = v128(2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  const tap2 = v128(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5);
  const tap3 = v128(6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7);
  for (let o = 0; o < rowBytes; o += 16, position += delta) {
    const w = <i32>(position >> 24);
    if (w != whole) {
      whole = w;
      r0 = inter + <usize>(((w - 1) & ringMask) * interStride);
      r1 = inter + <usize>((w & ringMask) * interStride);
      r2 = inter + <usize>(((w + 1) & ringMask) * interStride);
      r3 = inter + <usize>(((w + 2) & ringMask) * interStride);
    }
    const weights = v128.load64_splat(table + <usize>((<i32>((position >> 16) & 255)) << 3));
    const w0 = i8x16.swizzle(weights, tap0);
    const w1 = i8x16.swizzle(weights, tap1);
    const w2 = i8x16.swizzle(weights, tap2);
    const w3 = i8x16.swizzle(weights, tap3);
    const p = <usize>o;
    const a0 = v128.load(r0 + p);
    const a1 = v128.load(r1 + p);
    const a2 = v128.load(r2 + p);
    const a3 = v128.load(r3 + p);
    v128.store(out + p, blend16(a0, a1, a2, a3, w0, w1, w2, w3, half));
  }
}

/** Blocks of 16 bytes [from, to) of one output row, all at source row position y. */
function rowBlocks(
  inter: usize,
  interStride: i32,
  ringMask: i32,
  out: usize,
  from: i32,
  to: i32,
  y: f64,
  table: usize,
  half: v128,
): void {
  const floor = Math.floor(y);
  const phase = <i32>((y - floor) * 256.0 + 0.5);
  const top = <i32>floor - 1;
  const r0 = inter + <usize>((top & ringMask) * interStride);
  const r1 = inter + <usize>(((top + 1) & ringMask) * interStride);
  const r2 = inter + <usize>(((top + 2) & ringMask) * interStride);
  const r3 = inter + <usize>(((top + 3) & ringMask) * interStride);
  const w = table + <usize>(phase << 3);
  const w0 = i16x8.splat(load<i16>(w));
  const w1 = i16x8.splat(load<i16>(w, 2));
  const w2 = i16x8.splat(load<i16>(w, 4));
  const w3 = i16x8.splat(load<i16>(w, 6));
  for (let o = from; o < to; o += 16) {
    const p = <usize>o;
    const a0 = v128.load(r0 + p);
    const a1 = v128.load(r1 + p);
    const a2 = v128.load(r2 + p);
    const a3 = v128.load(r3 + p);
    v128.store(out + p, blend16(a0, a1, a2, a3, w0, w1, w2, w3, half));
  }
}

/** Sixteen 8-bit samples of four rows weighted by four taps (pass 2), rounded and clamped to 8 bits. */
function blend16(
  a0: v128,
  a1: v128,
  a2: v128,
  a3: v128,
  w0: v128,
  w1: v128,
  w2: v128,
  w3: v128,
  half: v128,
): v128 {
  const low = taps(
    i16x8.extend_low_i8x16_u(a0),
    i16x8.extend_low_i8x16_u(a1),
    i16x8.extend_low_i8x16_u(a2),
    i16x8.extend_low_i8x16_u(a3),
    w0,
    w1,
    w2,
    w3,
    half,
  );
  const high = taps(
    i16x8.extend_high_i8x16_u(a0),
    i16x8.extend_high_i8x16_u(a1),
    i16x8.extend_high_i8x16_u(a2),
    i16x8.extend_high_i8x16_u(a3),
    w0,
    w1,
    w2,
    w3,
    half,
  );
  return i8x16.narrow_i16x8_u(low, high);
}

/**
 * Four taps on eight samples. Keys' outer taps are ≤ 0 and its inner ones ≥ 0: adding the outer ones
 * first keeps every partial sum at or below the final one, so saturating at 512 only ever clamps a
 * result far above 255, never an intermediate overshoot that the outer taps would have brought back.
 */
function taps(
  s0: v128,
  s1: v128,
  s2: v128,
  s3: v128,
  w0: v128,
  w1: v128,
  w2: v128,
  w3: v128,
  half: v128,
): v128 {
  let acc = i16x8.add_sat_s(
    i16x8.q15mulr_sat_s(i16x8.shl(s0, 7), w0),
    i16x8.q15mulr_sat_s(i16x8.shl(s3, 7), w3),
  );
  acc = i16x8.add_sat_s(acc, i16x8.q15mulr_sat_s(i16x8.shl(s1, 7), w1));
  acc = i16x8.add_sat_s(acc, i16x8.q15mulr_sat_s(i16x8.shl(s2, 7), w2));
  return i16x8.shr_s(i16x8.add_sat_s(acc, half), 6);
}

/** Copies `rows` rows of `width` RGB pixels into rows with `pad` copies of the edge pixels on each side. */
export function padRows(row: usize, stride: i32, rows: i32, width: i32, pad: i32): void {
  for (let r = 0; r < rows; r++) {
    const start = row + <usize>(r * stride);
    const first = start + <usize>(pad * 3);
    const last = first + <usize>((width - 1) * 3);
    for (let i = 0; i < pad; i++) {
      const left = start + <usize>(i * 3);
      const right = last + <usize>((i + 1) * 3);
      store<u8>(left, load<u8>(first));
      store<u8>(left, load<u8>(first, 1), 1);
      store<u8>(left, load<u8>(first, 2), 2);
      store<u8>(right, load<u8>(last));
      store<u8>(right, load<u8>(last, 1), 1);
      store<u8>(right, load<u8>(last, 2), 2);
    }
  }
}

/**
 * The aligner's downscale for 8-bit RGB: `rows` rows of `width` pixels (the rows of one row of bins
 * that are sampled) become `bins` sums of linear-light luminance over `factor` pixels of each row
 * (f32 at `out`), `table` holding 3 × 256 f32 (each channel's linear value times its luminance weight).
 */
export function binLuminance(
  src: usize,
  width: i32,
  factor: i32,
  rows: i32,
  bins: i32,
  out: usize,
  table: usize,
): void {
  const rowBytes = width * 3;
  for (let u = 0; u < bins; u++) store<f32>(out + ((<usize>u) << 2), 0);
  for (let r = 0; r < rows; r++) {
    let p = src + <usize>(r * rowBytes);
    for (let u = 0; u < bins; u++) {
      let l: f32 = 0;
      for (let i = 0; i < factor; i++) {
        l +=
          load<f32>(table + ((<usize>load<u8>(p)) << 2)) +
          load<f32>(table + ((<usize>load<u8>(p, 1)) << 2), 1024) +
          load<f32>(table + ((<usize>load<u8>(p, 2)) << 2), 2048);
        p += 3;
      }
      const o = out + ((<usize>u) << 2);
      store<f32>(o, load<f32>(o) + l);
    }
  }
}

/**
 * The focus measure's cells (src/stack/merge/luminance.ts) for 8-bit RGB: `cell` (2 or 4) rows of
 * `width` pixels at `src` become, per whole cell, its luminance Σ (r·R + g·G + b·B) as f32 at
 * lum + 4·cell, and its mean R, G, B as f32 at colour + 12·cell (4 spare bytes after the last).
 * `cells` whole cells; rows need 16 readable bytes past their end.
 */
export function cellLuminance(
  src: usize,
  width: i32,
  cell: i32,
  cells: i32,
  lum: usize,
  colour: usize,
  r: f32,
  g: f32,
  b: f32,
): void {
  const rowBytes = <usize>(width * 3);
  const weights = f32x4(r, g, b, 0);
  const mean = f32x4.splat(<f32>1 / <f32>(cell * cell));
  if (cell == 4) {
    // R0 R1 R2 R3 G0 … B3 then zeros: pairwise sums give [R01 R23 G01 G23 B01 B23 0 0].
    const byChannel = v128(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1);
    for (let c = 0; c < cells; c++) {
      const p = src + <usize>(c * 12);
      let acc = i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p), byChannel));
      acc = i16x8.add(acc, i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p + rowBytes), byChannel)));
      acc = i16x8.add(
        acc,
        i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p + 2 * rowBytes), byChannel)),
      );
      acc = i16x8.add(
        acc,
        i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p + 3 * rowBytes), byChannel)),
      );
      storeCell(f32x4.convert_i32x4_u(i32x4.extadd_pairwise_i16x8_u(acc)), weights, mean, lum, colour, c);
    }
    return;
  }
  // Two 2×2 cells per 12 bytes: [Ra Ra' Ga Ga' Ba Ba' Rb Rb' Gb Gb' Bb Bb' 0 0 0 0].
  const byCell = v128(0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11, -1, -1, -1, -1);
  for (let c = 0; c + 1 < cells; c += 2) {
    const p = src + <usize>(c * 6);
    const acc = i16x8.add(
      i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p), byCell)),
      i16x8.extadd_pairwise_i8x16_u(i8x16.swizzle(v128.load(p + rowBytes), byCell)),
    );
    // [Ra Ga Ba Rb | Gb Bb 0 0] as i32.
    const low = i32x4.extend_low_i16x8_u(acc);
    const high = i32x4.extend_high_i16x8_u(acc);
    storeCell(f32x4.convert_i32x4_u(low), weights, mean, lum, colour, c);
    storeCell(
      f32x4.convert_i32x4_u(v128.shuffle<i32>(low, high, 3, 4, 5, 6)),
      weights,
      mean,
      lum,
      colour,
      c + 1,
    );
  }
}

/** One cell's channel sums [R, G, B, ·]: its luminance, and its mean colour (16 bytes written, 12 kept). */
function storeCell(sums: v128, weights: v128, mean: v128, lum: usize, colour: usize, c: i32): void {
  const w = f32x4.mul(sums, weights);
  store<f32>(
    lum + ((<usize>c) << 2),
    f32x4.extract_lane(w, 0) + f32x4.extract_lane(w, 1) + f32x4.extract_lane(w, 2),
  );
  v128.store(colour + <usize>(c * 12), f32x4.mul(sums, mean));
}

export { convolve, flatBand, refineGradient, refineHessian } from './estimator';
export { pixelLuma } from './luma';
export { expandRow, reduceRow } from './pyramid';
export { laplacianBoxMean } from './measure';
