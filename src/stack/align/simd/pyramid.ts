// AssemblyScript (see kernels.ts): REDUCE and EXPAND of the pyramid merge (../../merge/pyramid-ops.ts,
// whose JavaScript loops are the definition and serve small levels) on f32 rows the caller copies in.
// At 12 MP these two passes read every level of every frame: ~40 % of a pyramid stack's work in
// JavaScript. Kernel [1 4 6 4 1]/16, borders replicated, as there.

const W0: f32 = 6.0 / 16.0;
const W1: f32 = 4.0 / 16.0;
const W2: f32 = 1.0 / 16.0;

/**
 * One REDUCE output row: the five source rows (the centre, ±1, ±2; the caller replicates rows beyond
 * the level) filtered down the columns into `tmp` (sw floats, 16 bytes more writable), then across
 * and decimated into `out` (dw = ⌈sw / 2⌉ floats).
 */
export function reduceRow(
  centre: usize,
  up1: usize,
  down1: usize,
  up2: usize,
  down2: usize,
  sw: i32,
  tmp: usize,
  out: usize,
  dw: i32,
): void {
  const w0 = f32x4.splat(W0);
  const w1 = f32x4.splat(W1);
  const w2 = f32x4.splat(W2);
  let x = 0;
  for (; x + 4 <= sw; x += 4) {
    const o = (<usize>x) << 2;
    const near = f32x4.add(v128.load(up1 + o), v128.load(down1 + o));
    const far = f32x4.add(v128.load(up2 + o), v128.load(down2 + o));
    v128.store(
      tmp + o,
      f32x4.add(f32x4.add(f32x4.mul(v128.load(centre + o), w0), f32x4.mul(near, w1)), f32x4.mul(far, w2)),
    );
  }
  for (; x < sw; x++) {
    const o = (<usize>x) << 2;
    store<f32>(
      tmp + o,
      load<f32>(centre + o) * W0 +
        (load<f32>(up1 + o) + load<f32>(down1 + o)) * W1 +
        (load<f32>(up2 + o) + load<f32>(down2 + o)) * W2,
    );
  }
  // Across: out[i] reads tmp[2i − 2 … 2i + 2]. Four outputs a step read tmp[2i − 2 … 2i + 9] as the
  // even and odd lanes of five loads; the steps where a tap would leave the row are done one by one.
  const last = sw - 1;
  const safeEnd = min(dw, ((last - 2) >> 1) + 1);
  store<f32>(out, reducedAt(tmp, 0, last));
  let i = 1;
  for (; i + 4 <= safeEnd; i += 4) {
    const p = tmp + ((<usize>(2 * i - 2)) << 2);
    const a = v128.load(p); // 2i−2 … 2i+1
    const c = v128.load(p, 8); // 2i … 2i+3
    const b = v128.load(p, 16); // 2i+2 … 2i+5
    const d = v128.load(p, 24); // 2i+4 … 2i+7
    const e = v128.load(p, 32); // 2i+6 … 2i+9
    const minus2 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
    const minus1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
    const here = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
    const plus1 = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
    const plus2 = v128.shuffle<f32>(b, e, 0, 2, 4, 6);
    v128.store(
      out + ((<usize>i) << 2),
      f32x4.add(
        f32x4.add(f32x4.mul(here, w0), f32x4.mul(f32x4.add(minus1, plus1), w1)),
        f32x4.mul(f32x4.add(minus2, plus2), w2),
      ),
    );
  }
  for (; i < dw; i++) store<f32>(out + ((<usize>i) << 2), reducedAt(tmp, i, last));
}

/** out[i] of the horizontal REDUCE with clamped taps. */
function reducedAt(tmp: usize, i: i32, last: i32): f32 {
  const x = 2 * i;
  return (
    at(tmp, x, last) * W0 +
    (at(tmp, x - 1, last) + at(tmp, x + 1, last)) * W1 +
    (at(tmp, x - 2, last) + at(tmp, x + 2, last)) * W2
  );
}

function at(row: usize, x: i32, last: i32): f32 {
  return load<f32>(row + ((<usize>(x < 0 ? 0 : x > last ? last : x)) << 2));
}

/**
 * One EXPAND output row (dw floats into `out`) from the level above (sw floats a row): an even output
 * row blends rows a, b, c as [1 6 1]/8, an odd one averages b and c (a unused); then across likewise.
 * `tmp` holds sw floats and 16 bytes more.
 */
export function expandRow(
  a: usize,
  b: usize,
  c: usize,
  even: bool,
  sw: i32,
  tmp: usize,
  out: usize,
  dw: i32,
): void {
  const eighth = f32x4.splat(0.125);
  const threeQuarters = f32x4.splat(0.75);
  const half = f32x4.splat(0.5);
  let x = 0;
  if (even) {
    for (; x + 4 <= sw; x += 4) {
      const o = (<usize>x) << 2;
      v128.store(
        tmp + o,
        f32x4.add(
          f32x4.mul(f32x4.add(v128.load(a + o), v128.load(c + o)), eighth),
          f32x4.mul(v128.load(b + o), threeQuarters),
        ),
      );
    }
    for (; x < sw; x++) {
      const o = (<usize>x) << 2;
      store<f32>(tmp + o, <f32>0.125 * (load<f32>(a + o) + load<f32>(c + o)) + <f32>0.75 * load<f32>(b + o));
    }
  } else {
    for (; x + 4 <= sw; x += 4) {
      const o = (<usize>x) << 2;
      v128.store(tmp + o, f32x4.mul(f32x4.add(v128.load(b + o), v128.load(c + o)), half));
    }
    for (; x < sw; x++) {
      const o = (<usize>x) << 2;
      store<f32>(tmp + o, <f32>0.5 * (load<f32>(b + o) + load<f32>(c + o)));
    }
  }
  // Even outputs 2i blend tmp[i − 1], tmp[i], tmp[i + 1]; odd outputs 2i + 1 average tmp[i], tmp[i + 1].
  const lastX = sw - 1;
  const pairs = dw >> 1;
  const safeEnd = min(pairs, lastX);
  if (pairs > 0) {
    const t0 = load<f32>(tmp);
    const t1 = at(tmp, 1, lastX);
    store<f32>(out, <f32>0.125 * (t0 + t1) + <f32>0.75 * t0);
    store<f32>(out, <f32>0.5 * (t0 + t1), 4);
  }
  let i = 1;
  for (; i + 4 <= safeEnd; i += 4) {
    const p = tmp + ((<usize>i) << 2);
    const l = v128.load(p - 4);
    const m = v128.load(p);
    const r = v128.load(p + 4);
    const evens = f32x4.add(f32x4.mul(f32x4.add(l, r), eighth), f32x4.mul(m, threeQuarters));
    const odds = f32x4.mul(f32x4.add(m, r), half);
    const o = out + ((<usize>(2 * i)) << 2);
    v128.store(o, v128.shuffle<f32>(evens, odds, 0, 4, 1, 5));
    v128.store(o, v128.shuffle<f32>(evens, odds, 2, 6, 3, 7), 16);
  }
  for (; i < pairs; i++) {
    const m = at(tmp, i, lastX);
    const r = at(tmp, i + 1, lastX);
    const o = out + ((<usize>(2 * i)) << 2);
    store<f32>(o, <f32>0.125 * (at(tmp, i - 1, lastX) + r) + <f32>0.75 * m);
    store<f32>(o, <f32>0.5 * (m + r), 4);
  }
  if (dw & 1) {
    const i = pairs;
    store<f32>(
      out + ((<usize>(2 * i)) << 2),
      <f32>0.125 * (at(tmp, i - 1, lastX) + at(tmp, i + 1, lastX)) + <f32>0.75 * at(tmp, i, lastX),
    );
  }
}
