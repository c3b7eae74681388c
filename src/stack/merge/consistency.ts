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
  const col = (x: number): number => (mask[up + x] & 1) + (mask[mid + x] & 1) + (mask[down + x] & 1);
  let left = col(0);
  let centre = left;
  for (let x = 0; x < width; x++) {
    const right = x + 1 < width ? col(x + 1) : centre;
    out[x] = left + centre + right >= 5 ? 1 : 0;
    left = centre;
    centre = right;
  }
}
