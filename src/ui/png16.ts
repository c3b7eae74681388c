// Reads a 16-bit PNG's first channel at full precision in the browser (a canvas would cut it to 8
// bits, and with it the depth map's sub-frame fraction): chunks, zlib via DecompressionStream, unfilter.

export interface Png16 {
  width: number;
  height: number;
  /** First channel, row by row. */
  data: Uint16Array;
}

/** Channels per colour type (PNG spec, table 11.1): grey, RGB, grey + alpha, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

async function inflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Throws (so the caller can fall back to 8 bits) unless the PNG is 16-bit and not interlaced. */
export async function decodePng16(bytes: Uint8Array): Promise<Png16> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== 0x89504e47) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [bitDepth, colourType, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colourType] ?? 0;
      if (bitDepth !== 16 || !channels || interlace !== 0)
        throw new Error(
          `expected a 16-bit PNG, not interlaced; got bit depth ${bitDepth}, colour type ${colourType}${interlace ? ', interlaced' : ''}`,
        );
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!width || !idat.length) throw new Error('a PNG without image data');
  const joined = new Uint8Array(idat.reduce((n, part) => n + part.length, 0));
  idat.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
  const raw = await inflate(joined);
  const bpp = channels * 2;
  const stride = width * bpp;
  if (raw.length < (stride + 1) * height) throw new Error('a truncated PNG');
  const previous = new Uint8Array(stride);
  const row = new Uint8Array(stride);
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = previous[i];
      const c = i >= bpp ? previous[i - bpp] : 0;
      const predictor =
        filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : 0;
      row[i] = (line[i] + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) data[y * width + x] = (row[x * bpp] << 8) | row[x * bpp + 1];
    previous.set(row);
  }
  return { width, height, data };
}
