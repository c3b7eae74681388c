// Disk space: the size estimate follows its stated assumptions, a job that does not fit above the
// reserve is refused naming both sizes, and the per-frame guard stops a stack before the reserve.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  DEPTH_BYTES_PER_PIXEL,
  DiskGuard,
  FRAMES_IN_FLIGHT,
  FRAME_BYTES_PER_PIXEL,
  JOB_OVERHEAD_BYTES,
  PREVIEW_BYTES_PER_PIXEL,
  checkRoom,
  estimateFrameBytes,
  estimateJobBytes,
  freeBytes,
  type Statfs,
} from '../../src/store/disk-space.js';

const MB = 1e6;
/** statfs of a disk with `free()` bytes available in 4 KiB blocks. */
const fakeStatfs =
  (free: () => number): Statfs =>
  async () => ({ bavail: Math.floor(free() / 4096), bsize: 4096 });

describe('estimateJobBytes', () => {
  const twelveMp = { width: 4056, height: 3040 };

  it('counts every frame when they are kept and only those in flight when they are not', () => {
    const frame = estimateFrameBytes(twelveMp.width, twelveMp.height, 'jpg');
    const kept = estimateJobBytes({ ...twelveMp, frames: 60, encoding: 'jpg', keepFrames: true });
    const dropped = estimateJobBytes({ ...twelveMp, frames: 60, encoding: 'jpg', keepFrames: false });
    expect(kept - dropped).toBe((60 - FRAMES_IN_FLIGHT) * frame);
    // Fewer frames than the in-flight window: keeping them changes nothing.
    expect(estimateJobBytes({ ...twelveMp, frames: 2, encoding: 'jpg', keepFrames: true })).toBe(
      estimateJobBytes({ ...twelveMp, frames: 2, encoding: 'jpg', keepFrames: false }),
    );
  });

  it('takes the conservative end of q93 JPEG (0.35–0.5 B/px) and ~2 B/px for PNG frames and depth', () => {
    const pixels = twelveMp.width * twelveMp.height;
    const jpegFrame = estimateFrameBytes(twelveMp.width, twelveMp.height, 'jpg');
    expect(jpegFrame).toBeGreaterThanOrEqual(0.35 * pixels);
    expect(jpegFrame).toBeLessThanOrEqual(0.5 * pixels);
    expect(estimateFrameBytes(twelveMp.width, twelveMp.height, 'png')).toBe(
      Math.ceil(pixels * FRAME_BYTES_PER_PIXEL.png),
    );
    const zeroFrames = estimateJobBytes({ ...twelveMp, frames: 0, encoding: 'png', keepFrames: true });
    // Results alone: one frame-sized image, the 16-bit depth map and the previews.
    expect(zeroFrames).toBe(
      Math.ceil(pixels * FRAME_BYTES_PER_PIXEL.png) +
        Math.ceil(pixels * (DEPTH_BYTES_PER_PIXEL + PREVIEW_BYTES_PER_PIXEL)) +
        JOB_OVERHEAD_BYTES,
    );
    // A 100-frame 12 MP JPEG stack with kept frames needs some hundreds of MB, not GB or kB.
    const stack = estimateJobBytes({ ...twelveMp, frames: 100, encoding: 'jpg', keepFrames: true });
    expect(stack / MB).toBeGreaterThan(500);
    expect(stack / MB).toBeLessThan(700);
  });

  it('rejects sizes that are not whole numbers', () => {
    expect(() =>
      estimateJobBytes({ frames: -1, width: 10, height: 10, encoding: 'jpg', keepFrames: true }),
    ).toThrow(/frames must be a whole number/);
    expect(() =>
      estimateJobBytes({ frames: 1, width: 1.5, height: 10, encoding: 'jpg', keepFrames: true }),
    ).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('freeBytes and checkRoom', () => {
  it('reads free space from statfs (numbers or bigints) and from the real disk', async () => {
    expect(
      await freeBytes(
        '/data',
        fakeStatfs(() => 8192 * 10),
      ),
    ).toBe(8192 * 10);
    expect(await freeBytes('/data', async () => ({ bavail: 3n, bsize: 4096n }))).toBe(12288);
    expect(await freeBytes(tmpdir())).toBeGreaterThan(0);
  });

  it('passes a job that fits above the reserve and refuses one that does not, with DISK_FULL naming the sizes', async () => {
    const statfs = fakeStatfs(() => 900 * MB);
    expect(await checkRoom('/data', 300 * MB, 500 * MB, { statfs })).toBe(
      Math.floor((900 * MB) / 4096) * 4096,
    );
    const refusal = await checkRoom('/data', 450 * MB, 500 * MB, {
      statfs,
      what: 'the 60-frame stack',
    }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: 'DISK_FULL',
      status: 507,
      neededBytes: 450 * MB,
      reserveBytes: 500 * MB,
      message:
        'not enough disk space in /data: the 60-frame stack needs about 450.0 MB and 500.0 MB must stay free, ' +
        'but only 900.0 MB are free',
    });
  });
});

describe('DiskGuard', () => {
  it('lets a running stack capture until the next frame would eat into the reserve', async () => {
    const frameBytes = estimateFrameBytes(4056, 3040, 'jpg');
    const reserve = 200 * MB;
    let free = 230 * MB;
    const guard = new DiskGuard({
      dir: '/data',
      reserveBytes: reserve,
      bytesPerFrame: frameBytes,
      statfs: fakeStatfs(() => free),
    });
    let captured = 0;
    let stoppedBy: unknown;
    for (let index = 0; index < 100; index++) {
      try {
        await guard.beforeFrame(index);
      } catch (error) {
        stoppedBy = error;
        break;
      }
      free -= frameBytes; // the frame is written
      captured++;
    }
    expect(captured).toBe(Math.floor((230 * MB - reserve) / frameBytes));
    expect(free).toBeGreaterThanOrEqual(reserve);
    expect(stoppedBy).toMatchObject({
      code: 'DISK_FULL',
      message: expect.stringContaining(`frame ${captured} needs`),
    });
  });

  it('sees space taken by other writers between frames', async () => {
    let free = 1000 * MB;
    const guard = new DiskGuard({
      dir: '/data',
      reserveBytes: 100 * MB,
      bytesPerFrame: 5 * MB,
      statfs: fakeStatfs(() => free),
    });
    await guard.beforeFrame();
    free = 102 * MB; // another job's results landed
    await expect(guard.beforeFrame()).rejects.toMatchObject({ code: 'DISK_FULL' });
    await expect(guard.check(1 * MB, 'the depth map')).resolves.toBeGreaterThan(100 * MB);
  });
});
