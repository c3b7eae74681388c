// Runs the Pi camera driver against a fake rpicam-still that crashes or hangs mid-stack: each failure becomes
// a typed error carrying the camera's stderr, the process is gone, and the next capture restarts it.
import { readdir } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { CameraProcessError } from '../../../src/rig/camera/camera-process.js';
import { cameraTest as it, decodeImage, LOCKED, processExists, testConfig } from '../../fakes/fake-rpicam.js';

const QUICK = { killGraceMs: 150, quitTimeoutMs: 300 };

describe('a crash mid-stack', () => {
  it('fails that capture with the exit code and stderr, then restarts for the next', async ({ lab }) => {
    const camera = lab.camera({ FAKE_RPICAM_CRASH_AFTER: '3' }, QUICK);
    await camera.open(LOCKED);
    for (let n = 1; n <= 3; n++) await camera.capture(lab.target(n));

    const error = await camera.capture(lab.target(4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CameraProcessError);
    const failure = error as CameraProcessError;
    expect(failure.code).toBe('CAMERA_FAILED');
    expect(failure.exit).toEqual({ code: 1, signal: null });
    expect(failure.message).toMatch(/exited with code 1 while capturing frame 3/);
    expect(failure.message).toContain('ERROR: *** failed to start camera ***');
    expect(failure.stderr).toContain('ERROR: *** failed to start camera ***');
    expect(failure.stderr.length).toBeLessThanOrEqual(20);

    const fifth = await camera.capture(lab.target(5));
    expect(await decodeImage(fifth.file)).toMatchObject({ format: 'jpeg' });
    const starts = (await lab.events()).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(2);
    // The restart keeps the locked settings and numbers on past the lost frame.
    const argv = starts[1].argv ?? [];
    expect(argv[argv.indexOf('--framestart') + 1]).toBe('4');
    expect(argv[argv.indexOf('--shutter') + 1]).toBe('10000');
    expect(processExists(starts[0].pid)).toBe(false);
    expect(await readdir(lab.root)).not.toContain('frame-4.jpg');
  });
});

describe('a hung camera', () => {
  it('times out, kills the process (SIGKILL when SIGTERM is ignored) and restarts for the next capture', async ({
    lab,
  }) => {
    const camera = lab.camera(
      { FAKE_RPICAM_HANG_AFTER: '2' },
      { ...QUICK, config: testConfig({ frameTimeoutMs: 800 }) },
    );
    await camera.open(LOCKED);
    await camera.capture(lab.target(1));
    await camera.capture(lab.target(2));

    const error = (await camera.capture(lab.target(3)).catch((e: unknown) => e)) as CameraProcessError;
    expect(error.code).toBe('CAMERA_TIMEOUT');
    expect(error.message).toMatch(/no frame 2 within 800 ms \(camera\.frameTimeoutMs\)/);
    expect(error.stderr).toContain('(fake) hung: SIGTERM ignored');
    expect(error.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const [hungPid] = await lab.pids();
    expect(processExists(hungPid)).toBe(false);

    await camera.capture(lab.target(4));
    expect(await decodeImage(lab.target(4))).toMatchObject({ format: 'jpeg' });
    expect(await lab.pids()).toHaveLength(2);
  });

  it('uses the start-up timeout for the first frame of a process', async ({ lab }) => {
    const config = testConfig({ startupTimeoutMs: 1500 });
    const camera = lab.camera({ FAKE_RPICAM_HANG_AFTER: '0' }, { ...QUICK, config });
    await camera.open(LOCKED);
    await expect(camera.capture(lab.target(1))).rejects.toMatchObject({
      code: 'CAMERA_TIMEOUT',
      message: expect.stringMatching(/within 1500 ms \(camera\.startupTimeoutMs/),
    });
  });
});

describe('a frame reported saved but incomplete', () => {
  it('is refused as CAMERA_FAILED naming the missing JPEG end, and not moved into place', async ({ lab }) => {
    const camera = lab.camera({ FAKE_RPICAM_TRUNCATE: '1' }, QUICK);
    await camera.open(LOCKED);
    await expect(camera.capture(lab.target(1))).rejects.toMatchObject({
      code: 'CAMERA_FAILED',
      message: expect.stringMatching(
        /not a complete JPG file: expected FFD8 … FFD9, got ffd8.* … .*\(\d+ bytes\)/,
      ),
    });
    expect(await readdir(lab.root)).not.toContain('frame-1.jpg');
  });
});
