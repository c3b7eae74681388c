// Runs the Pi camera driver against the fake rpicam-still to cancel captures and close sessions: CANCELLED
// comes at once without breaking the one-trigger-at-a-time rule, and close() leaves no process behind.
import { readdir } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { cameraTest as it, decodeImage, LOCKED, processExists, testConfig } from '../../fakes/fake-rpicam.js';

const QUICK = { killGraceMs: 150, quitTimeoutMs: 300 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cancelling', () => {
  it('rejects with CANCELLED at once; the next trigger waits for the abandoned frame', async ({ lab }) => {
    const camera = lab.camera({ FAKE_RPICAM_CAPTURE_MS: '600' }, QUICK);
    await camera.open(LOCKED);
    const controller = new AbortController();
    const pending = camera.capture(lab.target(1), { signal: controller.signal });
    // Cancel once the trigger is out and the fake is busy with the frame.
    while (!(await lab.events()).some((e) => e.event === 'trigger')) await sleep(10);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    // Rejected without waiting for the frame, which the fake is still taking.
    expect((await lab.events()).filter((e) => e.event === 'frame')).toEqual([]);

    await camera.capture(lab.target(2));
    expect(await decodeImage(lab.target(2))).toMatchObject({ format: 'jpeg' });
    expect(await readdir(lab.root)).not.toContain('frame-1.jpg');
    const events = await lab.events();
    const triggers = events.filter((e) => e.event === 'trigger');
    expect(triggers).toHaveLength(2);
    expect(triggers.every((t) => !t.busy)).toBe(true);
    const order = events.filter((e) => e.event === 'trigger' || e.event === 'frame').map((e) => e.event);
    expect(order).toEqual(['trigger', 'frame', 'trigger', 'frame']);
    expect(await lab.pids()).toHaveLength(1);
  });

  it('sends no trigger for a capture whose signal is already aborted', async ({ lab }) => {
    const camera = lab.camera({}, QUICK);
    await camera.open(LOCKED);
    await expect(camera.capture(lab.target(1), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect((await lab.events()).filter((e) => e.event === 'trigger')).toHaveLength(0);
  });

  it('kills a per-frame process when its capture is cancelled', async ({ lab }) => {
    const config = testConfig({ mode: 'per-frame' });
    const camera = lab.camera({ FAKE_RPICAM_STARTUP_MS: '3000' }, { ...QUICK, config });
    await camera.open(LOCKED);
    const controller = new AbortController();
    const pending = camera.capture(lab.target(1), { signal: controller.signal });
    // Cancel once the process is surely running (it logs its start first thing).
    while ((await lab.pids()).length === 0) await sleep(20);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await camera.close();
    const pids = await lab.pids();
    expect(pids).toHaveLength(1);
    expect(processExists(pids[0])).toBe(false);
  });
});

describe('closing', () => {
  it('kills a process that ignores the quit request and leaves no child behind', async ({ lab }) => {
    const config = testConfig({ frameTimeoutMs: 5000 });
    const camera = lab.camera({ FAKE_RPICAM_HANG_AFTER: '1' }, { ...QUICK, config });
    await camera.open(LOCKED);
    await camera.capture(lab.target(1));
    // The second frame hangs: the process now ignores SIGUSR2 and SIGTERM alike.
    const hanging = camera.capture(lab.target(2)).catch((e: unknown) => e);
    await sleep(100);
    await camera.close();
    expect(await hanging).toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/closed/) });
    const pids = await lab.pids();
    expect(pids).toHaveLength(1);
    expect(processExists(pids[0])).toBe(false);
    expect(await readdir(lab.workDir)).toEqual([]);
    await expect(camera.capture(lab.target(3))).rejects.toMatchObject({ code: 'CAMERA_FAILED' });
    const exit = (await lab.events()).filter((e) => e.event === 'exit');
    expect(exit).toEqual([]); // SIGKILLed: the fake had no chance to log a graceful exit
  });

  it('refuses a capture before open', async ({ lab }) => {
    await expect(lab.camera().capture(lab.target(1))).rejects.toMatchObject({
      code: 'CAMERA_FAILED',
      message: expect.stringMatching(/before open/),
    });
  });
});
