import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelapseSettingsSchema } from '../../src/schedule/schema.js';
import { TimelapseBuilder, thin } from '../../src/schedule/timelapse.js';

const W = 320;
const H = 240;
/** Where each run's field of view sits on the specimen: the stage drifted between runs. */
const OFFSETS: [number, number][] = [
  [0, 0],
  [7, -4],
  [-5, 6],
  [3, 9],
];

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-timelapse-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A blurred random texture larger than the field, so a crop at any offset is all specimen. */
async function specimen(): Promise<{ data: Buffer; width: number; height: number }> {
  const width = W + 60;
  const height = H + 60;
  let seed = 7;
  const noise = Buffer.alloc(width * height * 3);
  for (let i = 0; i < noise.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    noise[i] = seed >>> 24;
  }
  const data = await sharp(noise, { raw: { width, height, channels: 3 } })
    .blur(2)
    .normalise()
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** Writes job `run-N`'s result.jpg: the field of view at `offset`. */
async function writeResults(): Promise<void> {
  const s = await specimen();
  for (const [i, [dx, dy]] of OFFSETS.entries()) {
    const jobDir = join(dir, 'jobs', `run-${i + 1}`);
    await mkdir(jobDir, { recursive: true });
    await sharp(s.data, { raw: { width: s.width, height: s.height, channels: 3 } })
      .extract({ left: 30 + dx, top: 30 + dy, width: W, height: H })
      .jpeg({ quality: 95 })
      .toFile(join(jobDir, 'result.jpg'));
  }
}

async function grey(path: string): Promise<Buffer> {
  return sharp(path).greyscale().raw().toBuffer();
}

/** Mean absolute difference over the centre (the borders of a shifted frame hold replicated edges). */
function centreDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  let n = 0;
  for (let y = 20; y < H - 20; y++)
    for (let x = 20; x < W - 20; x++) {
      sum += Math.abs(a[y * W + x] - b[y * W + x]);
      n++;
    }
  return sum / n;
}

function builder(ffmpeg?: string) {
  return new TimelapseBuilder({
    outputDir: (id) => join(dir, 'schedules', id),
    resultPath: (jobId, name) => join(dir, 'jobs', jobId, name),
    ffmpeg,
  });
}

async function fakeFfmpeg(): Promise<string> {
  const path = join(dir, 'ffmpeg');
  await writeFile(
    path,
    [
      '#!/bin/sh',
      'if [ "$1" = "-version" ]; then echo "ffmpeg version fake"; exit 0; fi',
      'for last; do :; done',
      'echo "$@" > "$(dirname "$last")/ffmpeg-args.txt"',
      'printf "fake mp4" > "$last"',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

describe('the timelapse of a series', () => {
  it('registers each run onto the first, so the film does not jitter', async () => {
    await writeResults();
    const film = builder('stackscope-no-such-ffmpeg');
    const settings = timelapseSettingsSchema.parse({ align: 'translation' });
    for (let run = 1; run <= OFFSETS.length; run++)
      await film.addRun('egg', settings, { run, jobId: `run-${run}` });
    const series = await film.series('egg');
    expect(series?.entries.map((e) => e.run)).toEqual([1, 2, 3, 4]);
    expect([series?.width, series?.height]).toEqual([W, H]);
    // Each run's estimated drift undoes how far its field of view moved.
    for (const [i, entry] of series!.entries.entries()) {
      expect(entry.transform.dx).toBeCloseTo(-OFFSETS[i][0], 1);
      expect(entry.transform.dy).toBeCloseTo(-OFFSETS[i][1], 1);
      expect(entry.trusted).toBe(true);
    }
    const framesDir = join(dir, 'schedules', 'egg', 'frames');
    const reference = await grey(join(framesDir, 'r-000001.jpg'));
    for (let run = 2; run <= OFFSETS.length; run++) {
      const registered = centreDifference(
        reference,
        await grey(join(framesDir, `r-${String(run).padStart(6, '0')}.jpg`)),
      );
      const raw = centreDifference(reference, await grey(join(dir, 'jobs', `run-${run}`, 'result.jpg')));
      expect(registered).toBeLessThan(raw / 4);
    }
    const webp = await sharp(join(dir, 'schedules', 'egg', 'timelapse.webp'), { animated: true }).metadata();
    expect(webp.pages).toBe(4);
    expect(webp.delay).toEqual([200, 200, 200, 200]);
    expect([webp.width, webp.pageHeight]).toEqual([W, H]);
    // No ffmpeg: no MP4, no error, and the reason kept.
    expect(series?.mp4).toMatchObject({
      made: false,
      reason: 'stackscope-no-such-ffmpeg is not installed (not on PATH)',
    });
  });

  it('adds one frame per run: cached frames are not redone, and a run is added once', async () => {
    await writeResults();
    const film = builder('stackscope-no-such-ffmpeg');
    const settings = timelapseSettingsSchema.parse({ widthPx: 160 });
    await film.addRun('egg', settings, { run: 1, jobId: 'run-1' });
    await film.addRun('egg', settings, { run: 2, jobId: 'run-2' });
    const framesDir = join(dir, 'schedules', 'egg', 'frames');
    const before = await stat(join(framesDir, 'r-000001.jpg'));
    const again = await film.addRun('egg', settings, { run: 2, jobId: 'run-2' });
    expect(again).toMatchObject({ added: false, frames: 2 });
    const third = await film.addRun('egg', settings, { run: 3, jobId: 'run-3' });
    expect(third).toMatchObject({ added: true, frames: 3 });
    const after = await stat(join(framesDir, 'r-000001.jpg'));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect((await readdir(framesDir)).sort()).toEqual(['r-000001.jpg', 'r-000002.jpg', 'r-000003.jpg']);
    // Scaled to widthPx, even sizes for the MP4's 4:2:0 chroma.
    const meta = await sharp(join(framesDir, 'r-000003.jpg')).metadata();
    expect([meta.width, meta.height]).toEqual([160, 120]);
  });

  it('makes an MP4 with ffmpeg when it is there', async () => {
    await writeResults();
    const film = builder(await fakeFfmpeg());
    const settings = timelapseSettingsSchema.parse({ frameDelayMs: 250 });
    await film.addRun('egg', settings, { run: 1, jobId: 'run-1' });
    const result = await film.addRun('egg', settings, { run: 2, jobId: 'run-2' });
    expect(result.mp4).toBe(true);
    const out = join(dir, 'schedules', 'egg');
    expect(await readFile(join(out, 'timelapse.mp4'), 'utf8')).toBe('fake mp4');
    const args = await readFile(join(out, 'ffmpeg-args.txt'), 'utf8');
    expect(args).toContain('-framerate 4 ');
    expect(args).toContain(`-pattern_type glob -i ${join(out, 'frames', 'r-*.jpg')}`);
    expect(args).toContain('-pix_fmt yuv420p');
    expect((await film.series('egg'))?.mp4).toMatchObject({ made: true, frames: 2 });
  });

  it('thins a long series evenly for the WebP, keeping the first and the last run', () => {
    const runs = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(thin(runs, 4)).toEqual([1, 4, 7, 10]);
    expect(thin(runs, 20)).toEqual(runs);
  });
});
