// Luminance rows for the focus measures, read straight from an interleaved frame.
// Rows outside the image replicate the edge row, so every image row gets a full neighbourhood.

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/** Writes rows [firstRow, firstRow + rows) of the frame's luminance (0–1) into `out`. */
export function luminanceRows(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: 1 | 3,
  maxValue: number,
  firstRow: number,
  rows: number,
  out: Float32Array,
): void {
  const inv = 1 / maxValue;
  const r = LUMA_R * inv;
  const g = LUMA_G * inv;
  const b = LUMA_B * inv;
  for (let i = 0; i < rows; i++) {
    const y = Math.min(height - 1, Math.max(0, firstRow + i));
    const o = i * width;
    if (channels === 3) {
      let s = y * width * 3;
      for (let x = 0; x < width; x++, s += 3) out[o + x] = data[s] * r + data[s + 1] * g + data[s + 2] * b;
    } else {
      const s = y * width;
      for (let x = 0; x < width; x++) out[o + x] = data[s + x] * inv;
    }
  }
}
