// AssemblyScript (see kernels.ts): the default focus measure, the (2r+1)² mean of the squared
// 4-neighbour Laplacian (../../measure/laplacian.ts and box.ts are the definition), on a band of cell
// luminance the caller copies in. Every cell of every frame passes through it. The window sums are
// taken directly, 2r + 1 loads a direction, instead of the JavaScript's running sums, which do not
// vectorise; at the default r = 3 that is cheaper anyway.

/**
 * lum: width × rows f32 (16 bytes readable past the end); out, tmp: width × rows f32 each. Rows and
 * columns beyond the band replicate its edge, as the definition does.
 */
export function laplacianBoxMean(
  lum: usize,
  width: i32,
  rows: i32,
  radius: i32,
  tmp: usize,
  out: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  const four = f32x4.splat(4);
  const lastX = width - 1;
  // 1. Squared Laplacian into out.
  for (let y = 0; y < rows; y++) {
    const row = lum + <usize>y * rowBytes;
    const up = lum + <usize>(y == 0 ? 0 : y - 1) * rowBytes;
    const down = lum + <usize>(y == rows - 1 ? y : y + 1) * rowBytes;
    const o = out + <usize>y * rowBytes;
    let x = 1;
    for (; x + 4 <= lastX; x += 4) {
      const p = (<usize>x) << 2;
      const lap = f32x4.sub(
        f32x4.sub(
          f32x4.mul(v128.load(row + p), four),
          f32x4.add(v128.load(row + p - 4), v128.load(row + p + 4)),
        ),
        f32x4.add(v128.load(up + p), v128.load(down + p)),
      );
      v128.store(o + p, f32x4.mul(lap, lap));
    }
    for (; x < lastX; x++) laplacianAt(row, up, down, o, x, x - 1, x + 1);
    laplacianAt(row, up, down, o, 0, 0, lastX > 0 ? 1 : 0);
    if (lastX > 0) laplacianAt(row, up, down, o, lastX, lastX - 1, lastX);
  }
  // 2. Window sums along the rows into tmp.
  for (let y = 0; y < rows; y++) {
    const src = out + <usize>y * rowBytes;
    const dst = tmp + <usize>y * rowBytes;
    let x = 0;
    for (; x < radius && x < width; x++)
      store<f32>(dst + ((<usize>x) << 2), rowSumClamped(src, x, radius, lastX));
    for (; x + 4 <= width - radius; x += 4) {
      const p = src + ((<usize>(x - radius)) << 2);
      let sum = v128.load(p);
      for (let k = 1; k <= 2 * radius; k++) sum = f32x4.add(sum, v128.load(p + ((<usize>k) << 2)));
      v128.store(dst + ((<usize>x) << 2), sum);
    }
    for (; x < width; x++) store<f32>(dst + ((<usize>x) << 2), rowSumClamped(src, x, radius, lastX));
  }
  // 3. Window sums down the columns, scaled to the mean, into out.
  const side = <f32>(radius * 2 + 1);
  const norm = f32x4.splat(<f32>1 / (side * side));
  const lastY = rows - 1;
  for (let y = 0; y < rows; y++) {
    const o = out + <usize>y * rowBytes;
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const p = (<usize>x) << 2;
      let sum = f32x4.splat(0);
      for (let k = -radius; k <= radius; k++) {
        const r = y + k < 0 ? 0 : y + k > lastY ? lastY : y + k;
        sum = f32x4.add(sum, v128.load(tmp + <usize>r * rowBytes + p));
      }
      v128.store(o + p, f32x4.mul(sum, norm));
    }
    for (; x < width; x++) {
      const p = (<usize>x) << 2;
      let sum: f32 = 0;
      for (let k = -radius; k <= radius; k++) {
        const r = y + k < 0 ? 0 : y + k > lastY ? lastY : y + k;
        sum += load<f32>(tmp + <usize>r * rowBytes + p);
      }
      store<f32>(o + p, sum * f32x4.extract_lane(norm, 0));
    }
  }
}

function laplacianAt(row: usize, up: usize, down: usize, out: usize, x: i32, left: i32, right: i32): void {
  const p = (<usize>x) << 2;
  const lap =
    <f32>4 * load<f32>(row + p) -
    load<f32>(row + ((<usize>left) << 2)) -
    load<f32>(row + ((<usize>right) << 2)) -
    load<f32>(up + p) -
    load<f32>(down + p);
  store<f32>(out + p, lap * lap);
}

/** Σ src[clamp(x + k)], k = −radius … radius. */
function rowSumClamped(src: usize, x: i32, radius: i32, lastX: i32): f32 {
  let sum: f32 = 0;
  for (let k = -radius; k <= radius; k++) {
    const c = x + k < 0 ? 0 : x + k > lastX ? lastX : x + k;
    sum += load<f32>(src + ((<usize>c) << 2));
  }
  return sum;
}
