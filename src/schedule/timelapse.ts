// A schedule's film: each finished run's stacked result, scaled and registered onto the first run's
// (the project's aligner and resampler), cached as one frame; from the cache an animated WebP (sharp)
// and, when ffmpeg is on PATH, an MP4. A new run registers one frame; nothing earlier is redone.
//
//   result.jpg ─► scale to widthPx ─► align to reference.png (primed with previous.png for chaining)
//              ─► warp (geometry only) ─► frames/r-000042.jpg ─► timelapse.webp (+ timelapse.mp4)
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { RESULT_FILES } from '../jobs/runners.js';
import { FrameAligner, MIN_RESAMPLE_MOTION_PX, maxDisplacement } from '../stack/align/aligner.js';
import { createWarpScratch, warpRows } from '../stack/align/resample.js';
import { IDENTITY, type FrameTransform } from '../stack/align/transform.js';
import { writeFileAtomic } from '../stack/io.js';
import type { Frame } from '../stack/types.js';
import type { TimelapseSettings } from './schema.js';

export const TIMELAPSE_FILES = {
  index: 'series.json',
  reference: 'reference.png',
  previous: 'previous.png',
  frames: 'frames',
  webp: 'timelapse.webp',
  mp4: 'timelapse.mp4',
} as const;

/** ffmpeg gets this long for a whole film before it is stopped. */
const FFMPEG_TIMEOUT_MS = 10 * 60_000;

export interface SeriesEntry {
  run: number;
  jobId: string;
  dueAt?: string;
  addedAt: string;
  /** The registered frame in frames/. */
  frame: string;
  /** Where this run's result sat relative to the first run's (full animation pixels). */
  transform: FrameTransform;
  source: string;
  trusted: boolean;
}

export interface SeriesIndex {
  version: 1;
  width: number;
  height: number;
  entries: SeriesEntry[];
  webp?: { frames: number; builtAt: string };
  mp4?: { made: boolean; frames?: number; reason?: string; builtAt: string };
}

export interface TimelapseOptions {
  /** A schedule's output folder (ScheduleStore.outputDir). */
  outputDir: (scheduleId: string) => string;
  /** A job's result file (JobStore.resultPath). */
  resultPath: (jobId: string, name: string) => string;
  /** The ffmpeg program; default `ffmpeg` from PATH. Absent from PATH: no MP4, no error. */
  ffmpeg?: string;
  logger?: Logger;
  now?: () => Date;
}

export interface AddRunResult {
  added: boolean;
  frames: number;
  mp4: boolean;
}

export class TimelapseBuilder {
  private readonly o: TimelapseOptions;
  private readonly queues = new Map<string, Promise<unknown>>();
  private ffmpegFound: Promise<boolean> | null = null;
  /** Per schedule: the aligner holding the series' reference and the previous run (see seriesAligner). */
  private readonly aligners = new Map<string, { mode: string; aligner: FrameAligner }>();

  constructor(options: TimelapseOptions) {
    this.o = options;
  }

  /** Adds a finished run's result to the schedule's series and remakes the animation(s). */
  addRun(
    scheduleId: string,
    settings: TimelapseSettings,
    run: { run: number; jobId: string; dueAt?: string },
  ): Promise<AddRunResult> {
    return this.serialised(scheduleId, () => this.add(scheduleId, settings, run));
  }

  async series(scheduleId: string): Promise<SeriesIndex | null> {
    try {
      const text = await readFile(join(this.o.outputDir(scheduleId), TIMELAPSE_FILES.index), 'utf8');
      return JSON.parse(text) as SeriesIndex;
    } catch {
      return null;
    }
  }

  /** Resolves once every build asked for so far has finished. */
  async settled(): Promise<void> {
    while (this.queues.size) await Promise.all([...this.queues.values()]);
  }

  private async add(
    scheduleId: string,
    settings: TimelapseSettings,
    run: { run: number; jobId: string; dueAt?: string },
  ): Promise<AddRunResult> {
    const dir = this.o.outputDir(scheduleId);
    await mkdir(join(dir, TIMELAPSE_FILES.frames), { recursive: true });
    const existing = await this.series(scheduleId);
    if (existing?.entries.some((e) => e.run === run.run))
      return { added: false, frames: existing.entries.length, mp4: existing.mp4?.made ?? false };
    const source = this.o.resultPath(run.jobId, RESULT_FILES.image);
    const frame = await loadRgb(source, existing ?? { maxWidth: settings.widthPx });
    const index: SeriesIndex = existing ?? {
      version: 1,
      width: frame.width,
      height: frame.height,
      entries: [],
    };
    let registered = frame;
    let report: Registration = { transform: IDENTITY, source: 'reference', trusted: true };
    if (index.entries.length === 0) {
      this.aligners.delete(scheduleId);
      await writeFileAtomic(join(dir, TIMELAPSE_FILES.reference), await png(frame));
    } else if (settings.align !== 'none') {
      let cached = this.aligners.get(scheduleId);
      if (cached?.mode !== settings.align) {
        cached = { mode: settings.align, aligner: await seriesAligner(dir, settings.align, frame) };
        this.aligners.set(scheduleId, cached);
      }
      ({ registered, report } = registerFrame(cached.aligner, frame));
    }
    const name = `r-${String(run.run).padStart(6, '0')}.jpg`;
    await writeFileAtomic(
      join(dir, TIMELAPSE_FILES.frames, name),
      await rawImage(registered).jpeg({ quality: 92 }).toBuffer(),
    );
    // The unregistered frame: the next run's estimate can chain through it when the scene has changed.
    await writeFileAtomic(join(dir, TIMELAPSE_FILES.previous), await png(frame));
    const now = (this.o.now ?? (() => new Date()))().toISOString();
    index.entries.push({ ...run, addedAt: now, frame: name, ...report });
    index.entries.sort((a, b) => a.run - b.run);
    await this.writeIndex(dir, index);

    const webpFrames = await this.buildWebp(dir, index, settings);
    index.webp = { frames: webpFrames, builtAt: now };
    index.mp4 = settings.mp4
      ? { ...(await this.buildMp4(dir, index, settings)), builtAt: now }
      : { made: false, reason: 'turned off (timelapse.mp4: false)', builtAt: now };
    await this.writeIndex(dir, index);
    this.o.logger?.info(
      { schedule: scheduleId, run: run.run, frames: index.entries.length, mp4: index.mp4.made },
      `timelapse ${scheduleId}: run ${run.run} added (${index.entries.length} frames)`,
    );
    return { added: true, frames: index.entries.length, mp4: index.mp4.made };
  }

  private async buildWebp(dir: string, index: SeriesIndex, settings: TimelapseSettings): Promise<number> {
    const files = thin(index.entries, settings.maxFrames).map((e) =>
      join(dir, TIMELAPSE_FILES.frames, e.frame),
    );
    // sharp joins two or more inputs into an animation; a single run is a still WebP.
    const image = files.length > 1 ? sharp(files, { join: { animated: true } }) : sharp(files[0]);
    // effort 2: the whole film is re-encoded at each run, on a Pi, so speed matters more than bytes.
    const data = await image
      // One delay per page: a single number sets only the first page's (sharp 0.35 with join).
      .webp({ quality: settings.quality, effort: 2, loop: 0, delay: files.map(() => settings.frameDelayMs) })
      .toBuffer();
    await writeFileAtomic(join(dir, TIMELAPSE_FILES.webp), data);
    return files.length;
  }

  private async buildMp4(
    dir: string,
    index: SeriesIndex,
    settings: TimelapseSettings,
  ): Promise<{ made: boolean; frames?: number; reason?: string }> {
    const ffmpeg = this.o.ffmpeg ?? 'ffmpeg';
    this.ffmpegFound ??= run(ffmpeg, ['-version']).then(
      () => true,
      () => false,
    );
    if (!(await this.ffmpegFound)) return { made: false, reason: `${ffmpeg} is not installed (not on PATH)` };
    const target = join(dir, TIMELAPSE_FILES.mp4);
    const tmp = join(dir, `.${TIMELAPSE_FILES.mp4}.${process.pid}.tmp`);
    try {
      await run(ffmpeg, [
        '-y',
        '-loglevel',
        'error',
        '-framerate',
        String(1000 / settings.frameDelayMs),
        '-pattern_type',
        'glob',
        '-i',
        join(dir, TIMELAPSE_FILES.frames, 'r-*.jpg'),
        // yuv420p plays everywhere; it needs even sizes, which loadRgb keeps.
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        tmp,
      ]);
      await rename(tmp, target);
      return { made: true, frames: index.entries.length };
    } catch (error) {
      await rm(tmp, { force: true });
      this.o.logger?.warn({ err: error }, `timelapse MP4 not made: ${(error as Error).message}`);
      return { made: false, reason: (error as Error).message };
    }
  }

  private async writeIndex(dir: string, index: SeriesIndex): Promise<void> {
    await writeFileAtomic(
      join(dir, TIMELAPSE_FILES.index),
      Buffer.from(`${JSON.stringify(index, null, 2)}\n`),
    );
  }

  private serialised<T>(id: string, task: () => Promise<T>): Promise<T> {
    const result = (this.queues.get(id) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return result;
  }
}

type Registration = Pick<SeriesEntry, 'transform' | 'source' | 'trusted'>;

/**
 * An aligner set to the series' reference (the first run). It is kept between runs, so it remembers
 * the previous run's frame to chain through when a run no longer looks like the first (a mould grown
 * over the field): previous ∘ step. After a restart it is rebuilt from reference.png and primed with
 * previous.png, the previous run's frame as it was before registration.
 */
async function seriesAligner(
  dir: string,
  mode: 'translation' | 'similarity',
  size: { width: number; height: number },
): Promise<FrameAligner> {
  const aligner = new FrameAligner(mode);
  aligner.setReference(await loadRgb(join(dir, TIMELAPSE_FILES.reference), size));
  const previous = await loadRgb(join(dir, TIMELAPSE_FILES.previous), size).catch(() => null);
  if (previous) aligner.align(previous);
  return aligner;
}

/** Moves `frame` onto the reference's geometry; pixels only (gains 1): brightness is part of the film. */
function registerFrame(aligner: FrameAligner, frame: Frame): { registered: Frame; report: Registration } {
  const { transform, source, trusted } = aligner.align(frame).report;
  const report = { transform, source, trusted };
  if (maxDisplacement(transform, frame.width, frame.height) < MIN_RESAMPLE_MOTION_PX)
    return { registered: frame, report };
  const out = new Uint8Array(frame.data.length);
  warpRows(
    frame.data,
    out,
    { width: frame.width, height: frame.height, channels: 3, maxValue: 255 },
    { transform, gains: [1, 1, 1] },
    0,
    frame.height,
    createWarpScratch(frame.width, 3),
  );
  return { registered: { ...frame, data: out }, report };
}

/**
 * Decodes an image as 8-bit RGB: scaled to fit maxWidth (even sizes, for yuv420p), or to exactly the
 * series' size (a run after a camera change still fits the film).
 */
async function loadRgb(
  path: string,
  size: { maxWidth: number } | { width: number; height: number },
): Promise<Frame> {
  let image = sharp(path, { failOn: 'truncated' });
  let width: number;
  let height: number;
  if ('maxWidth' in size) {
    const meta = await image.metadata();
    const scale = Math.min(1, size.maxWidth / meta.width);
    width = Math.max(2, Math.floor((meta.width * scale) / 2) * 2);
    height = Math.max(2, Math.floor((meta.height * scale) / 2) * 2);
  } else ({ width, height } = size);
  image = image.resize({ width, height, fit: 'cover' }).removeAlpha().toColourspace('srgb');
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: 3,
    bitDepth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function rawImage(frame: Frame): ReturnType<typeof sharp> {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } });
}

function png(frame: Frame): Promise<Buffer> {
  return rawImage(frame).png({ compressionLevel: 1 }).toBuffer();
}

/** At most `max` entries spread evenly over the series, always the first and the last. */
export function thin<T>(entries: T[], max: number): T[] {
  if (entries.length <= max) return entries;
  return Array.from({ length: max }, (_, i) => entries[Math.round((i * (entries.length - 1)) / (max - 1))]);
}

/** Runs a program to completion; rejects with its stderr on a non-zero exit, ENOENT when it is missing. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), FFMPEG_TIMEOUT_MS);
    timer.unref();
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${signal ?? code}: ${stderr.trim() || '(no message)'}`));
    });
  });
}
