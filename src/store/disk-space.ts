// Disk space for jobs: how much a job will write, whether it fits above a reserve, and a guard a
// running job asks before each frame, so a stack stops cleanly instead of filling the SD card.
import { statfs as nodeStatfs } from 'node:fs/promises';
import { BadArgumentError, StackscopeError } from '../errors.js';

/** statfs's answer as far as free space goes (node's StatsFs fits, numbers or bigints). */
export type Statfs = (dir: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

const defaultStatfs: Statfs = (dir) => nodeStatfs(dir);

/**
 * Bytes per pixel of a camera frame on disk. JPEG at quality 93: 0.35–0.5 for a sharp, noisy 12 MP
 * frame; the top of that range is taken, since running out costs a stack. PNG (8-bit RGB, zlib):
 * camera noise leaves about 2 of the 3 raw bytes.
 */
export const FRAME_BYTES_PER_PIXEL = { jpg: 0.5, png: 2 } as const;
/** 16-bit grey depth PNG: smooth, but its low bits are noisy; about 2 bytes per pixel. */
export const DEPTH_BYTES_PER_PIXEL = 2;
/** Colourised depth preview and the confidence map together, 8-bit and smooth. */
export const PREVIEW_BYTES_PER_PIXEL = 0.5;
/** Frames on disk at once when they are not kept: written, queued for the stacker, being merged. */
export const FRAMES_IN_FLIGHT = 3;
/** Manifest, its temp copy and the folder entries. */
export const JOB_OVERHEAD_BYTES = 256 * 1024;

export type FrameEncoding = keyof typeof FRAME_BYTES_PER_PIXEL;

export interface JobSizeInput {
  frames: number;
  width: number;
  height: number;
  encoding: FrameEncoding;
  /** Kept frames stay on disk; otherwise each is deleted once merged. */
  keepFrames: boolean;
}

export function estimateFrameBytes(width: number, height: number, encoding: FrameEncoding): number {
  return Math.ceil(width * height * FRAME_BYTES_PER_PIXEL[encoding]);
}

/** The most a job holds on disk at once: its frames (all, or those in flight) and its results. */
export function estimateJobBytes({ frames, width, height, encoding, keepFrames }: JobSizeInput): number {
  for (const [name, value] of Object.entries({ frames, width, height })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new BadArgumentError(`${name} must be a whole number ≥ 0, got ${value}`);
    }
  }
  const pixels = width * height;
  const frameBytes = estimateFrameBytes(width, height, encoding);
  const framesOnDisk = keepFrames ? frames : Math.min(frames, FRAMES_IN_FLIGHT);
  // The result is encoded like a frame; the depth map and previews add their own.
  const resultBytes = frameBytes + Math.ceil(pixels * (DEPTH_BYTES_PER_PIXEL + PREVIEW_BYTES_PER_PIXEL));
  return framesOnDisk * frameBytes + resultBytes + JOB_OVERHEAD_BYTES;
}

/** Bytes an unprivileged process may still write on the file system holding `dir`. */
export async function freeBytes(dir: string, statfs: Statfs = defaultStatfs): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return Number(bavail) * Number(bsize);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
}

export class DiskFullError extends StackscopeError {
  readonly neededBytes: number;
  readonly freeBytes: number;
  readonly reserveBytes: number;
  constructor(dir: string, what: string, needed: number, free: number, reserve: number) {
    super(
      'DISK_FULL',
      `not enough disk space in ${dir}: ${what} needs about ${formatBytes(needed)} and ` +
        `${formatBytes(reserve)} must stay free, but only ${formatBytes(free)} are free`,
    );
    this.name = 'DiskFullError';
    this.neededBytes = needed;
    this.freeBytes = free;
    this.reserveBytes = reserve;
  }
}

/**
 * Refuses (DISK_FULL) unless `bytes` fit in `dir` with `reserveBytes` left over, which keeps room
 * for the OS, logs and the manifest writes that end a job. Returns the free bytes seen.
 */
export async function checkRoom(
  dir: string,
  bytes: number,
  reserveBytes: number,
  options: { statfs?: Statfs; what?: string } = {},
): Promise<number> {
  const free = await freeBytes(dir, options.statfs);
  if (free - bytes < reserveBytes) {
    throw new DiskFullError(dir, options.what ?? 'the job', bytes, free, reserveBytes);
  }
  return free;
}

export interface DiskGuardOptions {
  dir: string;
  reserveBytes: number;
  /** Room one more frame needs (see estimateFrameBytes). */
  bytesPerFrame: number;
  statfs?: Statfs;
}

/**
 * Asked before each capture: statfs is one cheap syscall, and asking each time sees what other
 * writers (another job's results, logs) took since the job started.
 */
export class DiskGuard {
  private readonly options: DiskGuardOptions;
  constructor(options: DiskGuardOptions) {
    this.options = options;
  }

  /** Throws DISK_FULL when the next frame would eat into the reserve; returns the free bytes. */
  async beforeFrame(index?: number): Promise<number> {
    const what = index === undefined ? 'the next frame' : `frame ${index}`;
    return this.check(this.options.bytesPerFrame, what);
  }

  /** Same check for any other write (the results at the end of a stack). */
  async check(bytes: number, what = 'the next write'): Promise<number> {
    const { dir, reserveBytes, statfs } = this.options;
    return checkRoom(dir, bytes, reserveBytes, { statfs, what });
  }
}
