// sRGB decoding tables: camera JPEGs and PNGs are gamma-encoded, while exposure, defocus and the
// aligner's luminance act on linear light.

const tables = new Map<number, Float32Array>();

/** sRGB decoding (IEC 61966-2-1) per sample value of an 8- or 16-bit frame, to 0..1 linear light. */
export function linearTable(bitDepth: 8 | 16): Float32Array {
  let table = tables.get(bitDepth);
  if (!table) {
    const max = bitDepth === 16 ? 65535 : 255;
    table = new Float32Array(max + 1);
    for (let i = 0; i <= max; i++) {
      const v = i / max;
      table[i] = v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }
    tables.set(bitDepth, table);
  }
  return table;
}
