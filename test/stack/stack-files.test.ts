// stackFiles decodes ahead when aligning (two frames for depthmap, one for pyramid): frames still
// arrive in order, the reference is decoded once, and a frame that fails to decode ahead of its turn
// is reported as that file's error, never as an unhandled rejection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { framesAhead, stackFiles } from '../../src/stack/stack-files.js';
import { makeFrame } from '../helpers/frames.js';

const W = 96;
const H = 72;
let dir = '';
const files: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-stack-files-'));
  for (let k = 0; k < 4; k++) {
    // The same texture moved one pixel right per frame.
    const frame = makeFrame(W, H, 3, (x, y, c) => 128 + 60 * Math.sin((x - k) / 3 + c) * Math.cos(y / 4));
    const file = join(dir, `frame_${k + 1}.png`);
    await sharp(Buffer.from(frame.data), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(file);
    files.push(file);
  }
  await writeFile(join(dir, 'broken.png'), 'not an image');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stackFiles with alignment (decoding ahead)', () => {
  it('aligns to the middle frame by default', async () => {
    const result = await stackFiles(files, { threads: 1 });
    expect(result.referenceIndex).toBe(1);
    expect(result.alignment[1]).toMatchObject({ source: 'reference', resampled: false });
    // Moved one pixel a frame: every other frame is estimated and resampled (the default, auto).
    expect(result.alignment.map((a) => a.resampled)).toEqual([true, false, true, true]);
    expect(result.alignment.map((a) => Math.round(a.transform.dx))).toEqual([-1, 0, 1, 2]);
  });

  it('decodes ahead only when aligning, and not on a machine under 2 GB', () => {
    const GB = 2 ** 30;
    expect(framesAhead(false, 'depthmap', 8 * GB)).toBe(0);
    expect(framesAhead(true, 'depthmap', 8 * GB)).toBe(2);
    expect(framesAhead(true, 'pyramid', 8 * GB)).toBe(1);
    expect(framesAhead(true, 'depthmap', 0.5 * GB)).toBe(0);
    expect(framesAhead(true, 'pyramid', 1 * GB)).toBe(0);
  });

  it('stacks every frame once, in order, the reference decoded once', async () => {
    const result = await stackFiles(files, { align: 'similarity', reference: 'middle', threads: 1 });
    expect(result.frames).toBe(4);
    expect(result.referenceIndex).toBe(1);
    expect(result.alignment.map((a) => a.transform.dx > 0.5)).toEqual([false, false, true, true]);
    expect(result.decodeMs).toHaveLength(4);
  });

  it('stacks in order one ahead too (pyramid)', async () => {
    const result = await stackFiles(files, {
      align: 'similarity',
      method: 'pyramid',
      reference: 'first',
      threads: 1,
    });
    expect(result.frames).toBe(4);
    expect(result.alignment.map((a) => a.transform.dx > 0.5)).toEqual([false, true, true, true]);
    expect(result.alignment.map((a) => a.transform.dx > 1.5)).toEqual([false, false, true, true]);
  });

  // The broken file is third: two ahead, it is decoded (and fails) while the first frame is stacked.
  it('reports a frame that fails to decode ahead as that file, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const list = [files[0], files[1], join(dir, 'broken.png'), files[2]];
      await expect(stackFiles(list, { align: 'similarity', threads: 1 })).rejects.toThrow(/broken\.png/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
