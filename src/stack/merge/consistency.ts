// The consistency step shared by both merges: a pixel takes the new frame only when most of its
// 3×3 neighbourhood does too. Isolated choices — the "bubbles" of the original experiment — vanish.

/**
 * Majority vote of bit 0 of `mask` over the 3×3 neighbourhood of every pixel of row `y`
 * (edges replicated); writes 1/0 into `out` (width entries). Reads rows y-1 … y+1 only.
 */
export function majorityRow(
  mask: Uint8Array,
  offset: number,
  width: number,
  height: number,
  y: number,
  out: Uint8Array,
): void {
  const up = offset + (y > 0 ? y - 1 : 0) * width;
  const mid = offset + y * width;
  const down = offset + (y < height - 1 ? y + 1 : y) * width;
  // Column sums slide along the row: each pixel costs one new column of three bits.
  let left = (mask[up] & 1) + (mask[mid] & 1) + (mask[down] & 1);
  let centre = left;
  const last = width - 1;
  for (let x = 0; x < width; x++) {
    const n = x < last ? x + 1 : last;
    const right = (mask[up + n] & 1) + (mask[mid + n] & 1) + (mask[down + n] & 1);
    out[x] = left + centre + right >= 5 ? 1 : 0;
    left = centre;
    centre = right;
  }
}
