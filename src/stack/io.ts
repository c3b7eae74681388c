// The stacker's only edge to files: decode frames with sharp (by content, 8/16-bit, grey/RGB) and
// encode results. Everything else in stack/ works on typed arrays.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { BadArgumentError, InputError, StackscopeError } from '../errors.js';
import { inSlices } from './slices.js';
import type { Frame } from './types.js';

// sharp drops to one thread on glibc to limit fragmentation; decoding is on the stacker's critical
// path, so use the cores (RSS is watched by the benchmark).
sharp.concurrency(availableParallelism());
// libvips' operation cache keeps decoded frames alive; a stack never reads the same frame twice.
sharp.cache(false);

/** Magic numbers of the formats sharp reads, so folders can hold other files (README, notes). */
const SIGNATURES: { name: string; test: (b: Buffer) => boolean }[] = [
  { name: 'jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    name: 'png',
    test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  {
    name: 'tiff',
    test: (b) =>
      (b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42),
  },
  {
    name: 'webp',
    test: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
  },
  { name: 'gif', test: (b) => b.toString('latin1', 0, 4) === 'GIF8' },
  { name: 'heif', test: (b) => b.toString('latin1', 4, 8) === 'ftyp' },
];

export async function sniffImageFormat(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    if (bytesRead < 4) return null;
    return SIGNATURES.find((s) => s.test(head))?.name ?? null;
  } finally {
    await handle.close();
  }
}

const naturalOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

export interface InputList {
  files: string[];
  /** Files in a folder that are not images (by content), left out. */
  skipped: string[];
}

/**
 * Expands the command line's inputs: files stay in the given order; a folder contributes its image
 * files (by content, not extension) in natural order, so frame_2 comes before frame_10.
 */
export async function listInputs(inputs: string[]): Promise<InputList> {
  const files: string[] = [];
  const skipped: string[] = [];
  for (const input of inputs) {
    let entries: string[] | null = null;
    try {
      entries = (await readdir(input, { withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort(naturalOrder);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new InputError('INPUT_UNREADABLE', input, 'no such file or folder');
      if (code !== 'ENOTDIR')
        throw new InputError('INPUT_UNREADABLE', input, (error as Error).message, error);
    }
    if (entries === null) {
      files.push(input);
      continue;
    }
    for (const name of entries) {
      const path = join(input, name);
      if (await sniffImageFormat(path)) files.push(path);
      else skipped.push(path);
    }
  }
  return { files, skipped };
}

export interface DecodeOptions {
  /** Convert to this many channels (the stack's first frame decides); default: as stored. */
  channels?: 1 | 3;
}

/**
 * The largest frame accepted: above the biggest Pi camera sensors (64 MP), far below what a small
 * "decompression bomb" file can claim (a few kB of PNG can say 268 MP, sharp's own limit: 800 MB raw).
 */
export const MAX_INPUT_PIXELS = 70_000_000;

/** Decodes an image file by its content into interleaved 8- or 16-bit samples, naming the file in errors. */
export async function decodeFile(path: string, opts: DecodeOptions = {}): Promise<Frame> {
  try {
    // failOn 'truncated' rejects cut-off files (a half-written camera frame) instead of decoding grey rows.
    const image = sharp(path, { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS });
    const meta = await image.metadata();
    const sixteen =
      meta.depth === 'ushort' || meta.depth === 'short' || meta.depth === 'float' || meta.depth === 'uint';
    const stored = meta.channels - (meta.hasAlpha ? 1 : 0);
    const channels: 1 | 3 =
      opts.channels ?? (stored === 1 || meta.space === 'b-w' || meta.space === 'grey16' ? 1 : 3);
    let pipeline = image.autoOrient();
    if (meta.hasAlpha) pipeline = pipeline.removeAlpha();
    pipeline = pipeline.toColourspace(
      channels === 1 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb',
    );
    const { data, info } = await pipeline
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
    }
    const samples = sixteen
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data: samples };
  } catch (error) {
    if (error instanceof StackscopeError) throw error;
    const message = (error as Error).message
      .replace(/^Input file /, '')
      .replace(/pixel limit/, `pixel limit (${MAX_INPUT_PIXELS / 1e6} MP)`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      'INPUT_UNREADABLE',
      path,
      code === 'ENOENT' ? 'no such file' : `cannot decode image: ${message}`,
      error,
    );
  }
}

export type OutputFormat = 'jpeg' | 'png' | 'tiff';

export function outputFormatOf(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.png') return 'png';
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  throw new BadArgumentError(
    `output ${path}: unsupported extension '${ext || '(none)'}' (use .jpg, .png or .tif)`,
  );
}

/**
 * Writes under a temporary name and renames, so a crash or a full disk never leaves half a file; the
 * directory is synced after the rename, or a power cut could forget the rename itself.
 */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  // Random, not just the pid: one process may write the same path twice at once (two jobs' previews).
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new StackscopeError('OUTPUT_FAILED', `cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems (and Windows) refuse fsync on a directory; the file itself is already durable.
  } finally {
    await handle?.close();
  }
}

/**
 * Encodes an image: JPEG is always 8-bit (16-bit samples are scaled, not clipped); PNG and TIFF keep
 * 16 bits when the samples have them (TIFF uncompressed-LZW, since sharp's default TIFF is 8-bit JPEG).
 */
export async function encodeImage(
  frame: Frame,
  format: OutputFormat,
  opts: { quality?: number; compressionLevel?: number } = {},
): Promise<Buffer> {
  const { width, height, channels } = frame;
  let data = frame.data;
  if (format === 'jpeg' && frame.bitDepth === 16) {
    const eight = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) eight[i] = (data[i] * 255 + 32767) / 65535;
    data = eight;
  }
  const sixteen = data instanceof Uint16Array;
  // Typed arrays over the stacker's shared memory go to sharp as they are: no copy of a 36 MB result.
  let image = sharp(data, { raw: { width, height, channels } });
  if (sixteen) image = image.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  else if (channels === 1) image = image.toColourspace('b-w');
  switch (format) {
    case 'jpeg':
      // No Huffman optimisation: it buffers every coefficient of the image (+170 MB and 3.5× the time
      // for 12 MP, measured) to save ~15 % of the file; a Pi Zero 2 W has 512 MB in all.
      return image
        .jpeg({ quality: opts.quality ?? 95, chromaSubsampling: '4:4:4', optimiseCoding: false })
        .toBuffer();
    case 'png':
      return image.png({ compressionLevel: opts.compressionLevel ?? 6 }).toBuffer();
    case 'tiff':
      return image.tiff({ compression: 'lzw', predictor: 'horizontal' }).toBuffer();
  }
}

/** Depth units per frame in the 16-bit depth map: value = round(frame index × 256). */
export const DEPTH_UNITS_PER_FRAME = 256;

export function depthToUint16(depth: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length);
  depthUnits(depth, out, 0, depth.length);
  return out;
}

function depthUnits(depth: Float32Array, out: Uint16Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    // Depths are ≥ 0, so truncating x + 0.5 rounds; this loop runs over every pixel of a 12 MP map.
    const v = depth[i] * DEPTH_UNITS_PER_FRAME + 0.5;
    out[i] = v < 0 ? 0 : v > 65535 ? 65535 : v | 0;
  }
}

export async function encodeDepthPng(depth: Float32Array, width: number, height: number): Promise<Buffer> {
  // In slices: on the daemon's main thread a request must not wait behind the whole map.
  const data = new Uint16Array(depth.length);
  await inSlices(depth.length, (start, end) => depthUnits(depth, data, start, end));
  // Level 1: 12 MP in ~0.2 s and 14 MB, against ~0.4 s and 12 MB at level 2 (measured).
  return encodeImage({ width, height, channels: 1, bitDepth: 16, data }, 'png', { compressionLevel: 1 });
}
