// Separable box mean over a band of rows, with edge-replicated borders.
// Running sums make the cost independent of the radius, which matters at 12 MP.

/**
 * Replaces `data` (width × rows) by its (2r+1)² box mean. `tmp` must hold width × rows floats.
 * Rows at the band's top and bottom see replicated rows: exact only where the band has `r`
 * rows of context, which is what the caller's halo provides.
 */
export function boxMeanInPlace(
  data: Float32Array,
  width: number,
  rows: number,
  radius: number,
  tmp: Float32Array,
): void {
  if (radius <= 0) return;
  const win = 2 * radius + 1;
  const norm = 1 / (win * win);
  // Horizontal pass into tmp: running sum, edge-replicated ends, a test-free middle.
  const lastX = width - 1;
  const clampX = (x: number) => (x < 0 ? 0 : x > lastX ? lastX : x);
  const safeEnd = width - radius - 1;
  for (let y = 0; y < rows; y++) {
    const row = y * width;
    let sum = 0;
    for (let k = -radius; k <= radius; k++) sum += data[row + clampX(k)];
    let x = 0;
    for (; x < radius && x < width; x++) {
      tmp[row + x] = sum;
      sum += data[row + clampX(x + radius + 1)] - data[row + clampX(x - radius)];
    }
    for (; x < safeEnd; x++) {
      tmp[row + x] = sum;
      sum += data[row + x + radius + 1] - data[row + x - radius];
    }
    for (; x < width; x++) {
      tmp[row + x] = sum;
      sum += data[row + clampX(x + radius + 1)] - data[row + clampX(x - radius)];
    }
  }
  // Vertical pass back into data; the running sums are per column, held in a Float64 row so that
  // thousands of add/subtract steps do not drift.
  const acc = new Float64Array(width);
  const lastY = rows - 1;
  for (let k = -radius; k <= radius; k++) {
    const r = (k < 0 ? 0 : k > lastY ? lastY : k) * width;
    for (let x = 0; x < width; x++) acc[x] += tmp[r + x];
  }
  for (let y = 0; y < rows; y++) {
    const out = y * width;
    const add = (y + radius + 1 > lastY ? lastY : y + radius + 1) * width;
    const sub = (y - radius < 0 ? 0 : y - radius) * width;
    for (let x = 0; x < width; x++) {
      const a = acc[x];
      data[out + x] = a * norm;
      acc[x] = a + tmp[add + x] - tmp[sub + x];
    }
  }
}
