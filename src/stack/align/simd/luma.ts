// AssemblyScript (see kernels.ts): per-pixel luma of 8-bit RGB rows, for the pyramid merge, which
// otherwise converts every pixel of every frame in a JavaScript loop (~6 ns a pixel, a tenth of a
// pyramid stack's work at 12 MP). The measure's cell pass has the rows in memory already.

/**
 * `pixels` interleaved RGB pixels at `src` (rows back to back; 16 bytes readable past the last) into
 * f32 at `out`: r·R + g·G + b·B, four pixels a step.
 */
export function pixelLuma(src: usize, pixels: i32, out: usize, r: f32, g: f32, b: f32): void {
  // R0 R1 R2 R3 G0 G1 G2 G3 B0 B1 B2 B3, then zeros.
  const byChannel = v128(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1);
  const wr = f32x4.splat(r);
  const wg = f32x4.splat(g);
  const wb = f32x4.splat(b);
  let p = 0;
  for (; p + 4 <= pixels; p += 4) {
    const bytes = i8x16.swizzle(v128.load(src + <usize>(p * 3)), byChannel);
    const rg = i16x8.extend_low_i8x16_u(bytes);
    const red = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(rg));
    const green = f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(rg));
    const blue = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_high_i8x16_u(bytes)));
    // Summed in the JavaScript loop's order (R, then G, then B), in single precision.
    v128.store(
      out + ((<usize>p) << 2),
      f32x4.add(f32x4.add(f32x4.mul(red, wr), f32x4.mul(green, wg)), f32x4.mul(blue, wb)),
    );
  }
  for (; p < pixels; p++) {
    const s = src + <usize>(p * 3);
    store<f32>(
      out + ((<usize>p) << 2),
      <f32>load<u8>(s) * r + <f32>load<u8>(s, 1) * g + <f32>load<u8>(s, 2) * b,
    );
  }
}
