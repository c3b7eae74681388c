// Runs the Pi camera driver against the fake rpicam-still in keypress and per-frame modes, finds the program
// on PATH (rpicam-still, then libcamera-still), and moves frames across filesystems.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect } from 'vitest';
import {
  cameraTest as it,
  decodeImage,
  fakeCameraBin,
  FAST_FAKE,
  LOCKED,
  processExists,
  spawnWithEnv,
  testConfig,
} from '../../fakes/fake-rpicam.js';

describe('keypress and per-frame modes', () => {
  it('keypress mode triggers with Enter and quits with "x"', async ({ lab }) => {
    const camera = lab.camera({}, { config: testConfig({ mode: 'keypress' }) });
    await camera.open(LOCKED);
    for (let n = 0; n < 3; n++) await camera.capture(lab.target(n));
    await camera.close();

    for (let n = 0; n < 3; n++) expect(await decodeImage(lab.target(n))).toMatchObject({ format: 'jpeg' });
    const events = await lab.events();
    expect(events.filter((e) => e.event === 'start')).toHaveLength(1);
    expect(events[0].argv).toEqual(expect.arrayContaining(['-t', '0', '-k']));
    const triggers = events.filter((e) => e.event === 'trigger');
    expect(triggers.map((t) => [t.via, t.busy])).toEqual(Array(3).fill(['keypress', false]));
    expect(events.at(-1)).toMatchObject({ event: 'exit', reason: 'quit' });
  });

  it('per-frame mode runs one --immediate process per frame and waits for its exit', async ({ lab }) => {
    const camera = lab.camera({}, { config: testConfig({ mode: 'per-frame', immediate: true }) });
    await camera.open({ ...LOCKED, encoding: 'png' });
    for (let n = 0; n < 3; n++) await camera.capture(lab.target(n));

    for (let n = 0; n < 3; n++) expect(await decodeImage(lab.target(n))).toMatchObject({ format: 'png' });
    const events = await lab.events();
    const starts = events.filter((e) => e.event === 'start');
    expect(starts).toHaveLength(3);
    for (const start of starts) {
      expect(start.argv).toContain('--immediate');
      expect(start.argv).not.toContain('-s');
      expect(start.argv).not.toContain('-k');
      expect(events).toContainEqual(expect.objectContaining({ pid: start.pid, event: 'exit', code: 0 }));
      expect(processExists(start.pid)).toBe(false);
    }
  });

  it('per-frame mode without --immediate shoots when the preview timeout ends', async ({ lab }) => {
    const camera = lab.camera({}, { config: testConfig({ mode: 'per-frame', immediate: false }) });
    await camera.open(LOCKED);
    await camera.capture(lab.target(0));
    const [start] = (await lab.events()).filter((e) => e.event === 'start');
    expect(start.argv).not.toContain('--immediate');
    expect(await decodeImage(lab.target(0))).toMatchObject({ format: 'jpeg' });
  });
});

describe('finding the program', () => {
  it('uses rpicam-still from PATH when both names are there', async ({ lab }) => {
    const bin = await fakeCameraBin(['rpicam-still', 'libcamera-still']);
    try {
      const spawn = spawnWithEnv({ ...FAST_FAKE, FAKE_RPICAM_ARGS_LOG: lab.log, PATH: bin.dir });
      const camera = lab.camera({}, { spawn, command: undefined });
      await camera.open(LOCKED);
      await camera.capture(lab.target(0));
      expect((await lab.events())[0].program).toBe('rpicam-still');
      expect(camera.description).toMatch(/^rpicam-still/);
      await camera.close();
    } finally {
      await bin.cleanup();
    }
  });

  it('falls back to libcamera-still (Bullseye, rpicam-apps before 1.4)', async ({ lab }) => {
    const bin = await fakeCameraBin(['libcamera-still']);
    try {
      const spawn = spawnWithEnv({ ...FAST_FAKE, FAKE_RPICAM_ARGS_LOG: lab.log, PATH: bin.dir });
      const camera = lab.camera({}, { spawn, command: undefined });
      await camera.open(LOCKED);
      await camera.capture(lab.target(0));
      expect((await lab.events())[0].program).toBe('libcamera-still');
      expect(camera.description).toMatch(/^libcamera-still/);
      expect(await decodeImage(lab.target(0))).toMatchObject({ format: 'jpeg' });
      await camera.close();
    } finally {
      await bin.cleanup();
    }
  });

  it('says CAMERA_UNAVAILABLE, naming both programs, when neither runs', async ({ lab }) => {
    const bin = await fakeCameraBin([]);
    try {
      const camera = lab.camera({}, { spawn: spawnWithEnv({ PATH: bin.dir }), command: undefined });
      const error = await camera.open(LOCKED).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CAMERA_UNAVAILABLE' });
      expect((error as Error).message).toMatch(/rpicam-still: ENOENT.*libcamera-still: ENOENT/);
      // The failed open left nothing behind.
      expect(await readdir(lab.workDir)).toEqual([]);
    } finally {
      await bin.cleanup();
    }
  });

  it('names a configured command that does not exist', async ({ lab }) => {
    const camera = lab.camera(
      {},
      { config: testConfig({ command: '/nonexistent/cam' }), command: undefined },
    );
    await expect(camera.open(LOCKED)).rejects.toMatchObject({
      code: 'CAMERA_UNAVAILABLE',
      message: expect.stringContaining('/nonexistent/cam: ENOENT'),
    });
  });
});

describe('moving frames into place', () => {
  it('copies, then renames beside the target, when the work folder is on another filesystem', async ({
    lab,
  }) => {
    const shm = path.join('/dev/shm', path.basename(lab.root));
    // Without a second filesystem here rename never meets EXDEV: nothing to check.
    if (!(await stat('/dev/shm').catch(() => null))) return;
    try {
      const camera = lab.camera({}, { workDir: shm });
      await camera.open(LOCKED);
      await camera.capture(lab.target(0));
      expect(await decodeImage(lab.target(0))).toMatchObject({ format: 'jpeg' });
      expect((await readdir(lab.root)).filter((f) => f.endsWith('.partial'))).toEqual([]);
      await camera.close();
      expect(await readdir(shm)).toEqual([]);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});
