// Tells whether a frame file on disk is whole, cheaply (its first and last bytes only), so the store
// records and recovery adopts only frames the camera finished writing before a crash.
import type { StoreFs } from './store-fs.js';

export type FrameCheck = { ok: true; bytes: number; format: string } | { ok: false; reason: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The IEND chunk every PNG ends with: length 0, type 'IEND', its fixed CRC. */
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const TAIL_BYTES = 64;

/**
 * Checks a frame: JPEG must end with the EOI marker FFD9 (trailing zero padding allowed, as some
 * encoders add it), PNG with its IEND chunk, WebP's RIFF size must match the file. TIFF (uploads)
 * has no end marker; a valid header and a non-empty file is all that can be said cheaply.
 */
export async function checkFrameFile(fs: StoreFs, path: string): Promise<FrameCheck> {
  let handle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    return { ok: false, reason: `cannot open: ${(error as NodeJS.ErrnoException).code ?? error}` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, reason: 'not a regular file' };
    const size = stats.size;
    if (size === 0) return { ok: false, reason: 'empty file' };
    const head = Buffer.alloc(Math.min(16, size));
    await handle.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(TAIL_BYTES, size));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return judge(head, tail, size);
  } finally {
    await handle.close();
  }
}

function judge(head: Buffer, tail: Buffer, size: number): FrameCheck {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    let end = tail.length;
    while (end > 0 && tail[end - 1] === 0) end--;
    return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9
      ? { ok: true, bytes: size, format: 'jpeg' }
      : { ok: false, reason: 'JPEG without its end marker (FFD9): truncated' };
  }
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) {
    return tail.length >= PNG_IEND.length && tail.subarray(tail.length - PNG_IEND.length).equals(PNG_IEND)
      ? { ok: true, bytes: size, format: 'png' }
      : { ok: false, reason: 'PNG without its IEND chunk: truncated' };
  }
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return head.readUInt32LE(4) + 8 === size
      ? { ok: true, bytes: size, format: 'webp' }
      : {
          ok: false,
          reason: `WebP of ${size} bytes whose header says ${head.readUInt32LE(4) + 8}: truncated`,
        };
  }
  const tiff =
    head.length >= 4 &&
    ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 42 && head[3] === 0) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 42));
  if (tiff) return { ok: true, bytes: size, format: 'tiff' };
  return { ok: false, reason: 'not a JPEG, PNG, WebP or TIFF image' };
}
