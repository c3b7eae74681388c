// The stacker's file edge: listing inputs, decoding by content (8/16-bit, grey/RGB), encoding results.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { crc32, deflateSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StackscopeError } from '../../src/errors.js';
import {
  decodeFile,
  encodeDepthPng,
  encodeImage,
  listInputs,
  sniffImageFormat,
  writeFileAtomic,
} from '../../src/stack/io.js';
import { makeFrame } from '../helpers/frames.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/scorpion-crop');
const JPEG_AS_PNG = join(FIXTURES, 'scorpion_lapse_1.png');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-io-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tiny 8-bit PNG of w×h×channels with samples from `value`. */
function tinyPng(w = 4, h = 3, channels: 1 | 2 | 3 | 4 = 3, value = (i: number) => (i * 37) % 256) {
  const data = Uint8Array.from({ length: w * h * channels }, (_, i) => value(i));
  const image = sharp(data, { raw: { width: w, height: h, channels } });
  // sharp converts to sRGB on output unless told otherwise.
  return (channels === 1 ? image.toColourspace('b-w') : image).png().toBuffer();
}

/** Raw samples of an encoded image, read back without sharp's default conversion to 8-bit sRGB. */
async function readBack(buffer: Buffer, space: 'b-w' | 'srgb' | 'grey16' | 'rgb16'): Promise<number[]> {
  const sixteen = space.endsWith('16');
  const data = await sharp(buffer)
    .toColourspace(space)
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer();
  return Array.from(sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data);
}

/** A 16-bit PNG (RGB or grey) from raw Uint16 samples. */
function png16(data: Uint16Array, w: number, h: number, channels: 1 | 3) {
  return sharp(data, { raw: { width: w, height: h, channels } })
    .toColourspace(channels === 1 ? 'grey16' : 'rgb16')
    .png()
    .toBuffer();
}

async function expectInputError(promise: Promise<unknown>, file: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StackscopeError);
  expect((error as StackscopeError).code).toBe('INPUT_UNREADABLE');
  expect((error as StackscopeError).message).toContain(file);
  expect((error as StackscopeError).exitCode).toBe(2);
}

describe('listInputs', () => {
  it('lists a folder in natural order and skips hidden and non-image files', async () => {
    for (const n of [10, 2, 1]) await writeFile(join(dir, `frame_${n}.png`), await tinyPng());
    await writeFile(join(dir, '.hidden.png'), await tinyPng());
    await writeFile(join(dir, 'README.md'), '# notes about this stack\n');
    const { files, skipped } = await listInputs([dir]);
    expect(files).toEqual(['frame_1.png', 'frame_2.png', 'frame_10.png'].map((f) => join(dir, f)));
    expect(skipped).toEqual([join(dir, 'README.md')]);
  });

  it('keeps explicit file arguments in the given order', async () => {
    const names = ['frame_10.png', 'frame_1.png', 'frame_2.png'].map((f) => join(dir, f));
    for (const f of names) await writeFile(f, await tinyPng());
    const { files, skipped } = await listInputs(names);
    expect(files).toEqual(names);
    expect(skipped).toEqual([]);
  });

  it('rejects a missing input naming it', async () => {
    const missing = join(dir, 'nope');
    await expectInputError(listInputs([missing]), missing);
  });
});

describe('decodeFile: detection by content', () => {
  it('decodes a JPEG named .png', async () => {
    expect(await sniffImageFormat(JPEG_AS_PNG)).toBe('jpeg');
    const frame = await decodeFile(JPEG_AS_PNG);
    expect(frame).toMatchObject({ width: 384, height: 288, channels: 3, bitDepth: 8 });
    expect(frame.data).toBeInstanceOf(Uint8Array);
    expect(frame.data.length).toBe(384 * 288 * 3);
  });

  it('decodes a PNG named .jpg', async () => {
    const path = join(dir, 'really-a-png.jpg');
    await writeFile(path, await tinyPng(5, 4, 3));
    expect(await sniffImageFormat(path)).toBe('png');
    const frame = await decodeFile(path);
    expect(frame).toMatchObject({ width: 5, height: 4, channels: 3, bitDepth: 8 });
    // PNG is lossless: the samples come back exactly.
    expect(Array.from(frame.data)).toEqual(Array.from({ length: 60 }, (_, i) => (i * 37) % 256));
  });
});

describe('decodeFile: bit depth and channels', () => {
  it('decodes a 16-bit RGB PNG with exact samples', async () => {
    const samples = Uint16Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 1811 + 7) % 65536);
    const path = join(dir, 'rgb16.png');
    await writeFile(path, await png16(samples, 4, 3, 3));
    const frame = await decodeFile(path);
    expect(frame).toMatchObject({ width: 4, height: 3, channels: 3, bitDepth: 16 });
    expect(frame.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(frame.data)).toEqual(Array.from(samples));
  });

  it('decodes a 16-bit grey PNG with exact samples', async () => {
    const samples = Uint16Array.from({ length: 5 * 2 }, (_, i) => i * 6553 + 3);
    const path = join(dir, 'grey16.png');
    await writeFile(path, await png16(samples, 5, 2, 1));
    const frame = await decodeFile(path);
    expect(frame).toMatchObject({ width: 5, height: 2, channels: 1, bitDepth: 16 });
    expect(Array.from(frame.data)).toEqual(Array.from(samples));
  });

  it('drops the alpha channel of RGBA input', async () => {
    const path = join(dir, 'rgba.png');
    await writeFile(path, await tinyPng(3, 2, 4, (i) => (i % 4 === 3 ? 128 : i * 10)));
    const frame = await decodeFile(path);
    expect(frame).toMatchObject({ width: 3, height: 2, channels: 3, bitDepth: 8 });
    expect(frame.data.length).toBe(3 * 2 * 3);
    expect(Array.from(frame.data.subarray(0, 3))).toEqual([0, 10, 20]);
  });

  it('converts grey input to RGB when asked for 3 channels', async () => {
    const path = join(dir, 'grey.png');
    await writeFile(path, await tinyPng(3, 2, 1, (i) => i * 40));
    expect((await decodeFile(path)).channels).toBe(1);
    const frame = await decodeFile(path, { channels: 3 });
    expect(frame).toMatchObject({ width: 3, height: 2, channels: 3, bitDepth: 8 });
    const px = Array.from(frame.data.subarray(3, 6));
    for (const v of px) expect(Math.abs(v - 40)).toBeLessThanOrEqual(1);
  });
});

describe('decodeFile: errors name the file', () => {
  it('a missing path', async () => {
    const path = join(dir, 'missing.png');
    await expectInputError(decodeFile(path), path);
  });

  it('a truncated JPEG', async () => {
    const bytes = await readFile(JPEG_AS_PNG);
    const path = join(dir, 'truncated.png');
    await writeFile(path, bytes.subarray(0, bytes.length >> 1));
    await expectInputError(decodeFile(path), path);
  });

  it('a text file', async () => {
    const path = join(dir, 'notes.png');
    await writeFile(path, 'this is not an image\n'.repeat(10));
    await expectInputError(decodeFile(path), path);
  });

  it('a decompression bomb: a 70-byte PNG claiming 20000×20000 pixels is refused before decoding', async () => {
    const chunk = (type: string, body: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), body])));
      return Buffer.concat([head, Buffer.from(type, 'latin1'), body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20000, 0);
    ihdr.writeUInt32BE(20000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(16))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const path = join(dir, 'bomb.png');
    await writeFile(path, png);
    await expect(decodeFile(path)).rejects.toThrow(/bomb\.png: cannot decode image: .*pixel limit \(70 MP\)/);
  });
});

describe('encodeImage', () => {
  const frame16 = makeFrame(6, 4, 3, (x, y, c) => x * 10_000 + y * 1_000 + c * 300 + 17, 16);

  for (const format of ['png', 'tiff'] as const) {
    it(`keeps 16-bit samples in ${format.toUpperCase()}`, async () => {
      const buffer = await encodeImage(frame16, format);
      const meta = await sharp(buffer).metadata();
      expect(meta.format).toBe(format);
      expect(meta.depth).toBe('ushort');
      expect(meta.channels).toBe(3);
      expect(await readBack(buffer, 'rgb16')).toEqual(Array.from(frame16.data));
    });
  }

  it('scales 16-bit samples to 8 bits in JPEG', async () => {
    const smooth = makeFrame(16, 16, 3, (x, y, c) => 8_000 + x * 2_000 + y * 500 + c * 4_000, 16);
    const buffer = await encodeImage(smooth, 'jpeg', { quality: 100 });
    const meta = await sharp(buffer).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.depth).toBe('uchar');
    const data = await readBack(buffer, 'srgb');
    let worst = 0;
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - smooth.data[i] / 257));
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('keeps an 8-bit grey PNG at one channel', async () => {
    const grey = makeFrame(5, 3, 1, (x, y) => x * 50 + y);
    const buffer = await encodeImage(grey, 'png');
    const meta = await sharp(buffer).metadata();
    expect(meta).toMatchObject({ format: 'png', channels: 1, depth: 'uchar' });
    expect(await readBack(buffer, 'b-w')).toEqual(Array.from(grey.data));
  });
});

describe('encodeDepthPng', () => {
  it('stores round(depth × 256) as 16-bit grey', async () => {
    const buffer = await encodeDepthPng(Float32Array.from([0, 1.5, 13]), 3, 1);
    const meta = await sharp(buffer).metadata();
    expect(meta).toMatchObject({ format: 'png', depth: 'ushort', channels: 1, width: 3, height: 1 });
    expect(await readBack(buffer, 'grey16')).toEqual([0, 384, 3328]);
  });
});

describe('writeFileAtomic', () => {
  it('writes the file and leaves no temporary file', async () => {
    const path = join(dir, 'out.bin');
    await writeFileAtomic(path, Buffer.from('hello'));
    expect((await readFile(path)).toString()).toBe('hello');
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('fails with OUTPUT_FAILED into a missing folder, leaving nothing behind', async () => {
    const path = join(dir, 'no-such-folder', 'out.bin');
    const error = await writeFileAtomic(path, Buffer.from('x')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StackscopeError);
    expect((error as StackscopeError).code).toBe('OUTPUT_FAILED');
    expect((error as StackscopeError).message).toContain(path);
    expect(await readdir(dir)).toEqual([]);
  });
});
