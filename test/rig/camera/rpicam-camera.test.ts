// Runs the Pi camera driver against the fake rpicam-still in signal mode: a stack in one process with one
// trigger at a time, waiting until the program can take signals, and metering once before locking.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { cameraTest as it, decodeImage, LOCKED, processExists } from '../../fakes/fake-rpicam.js';

describe('signal mode', () => {
  it('takes a 10-frame stack with one process and one trigger at a time', async ({ lab }) => {
    const camera = lab.camera();
    await camera.open(LOCKED);
    const frames = [];
    for (let n = 0; n < 10; n++) frames.push(await camera.capture(lab.target(n)));

    for (const [n, frame] of frames.entries()) {
      expect(frame.file).toBe(lab.target(n));
      expect(await decodeImage(frame.file)).toEqual({ width: 64, height: 48, format: 'jpeg' });
      expect(frame.exposure).toEqual({ shutterUs: 10000, analogueGain: 1.5, awbGains: [1.25, 2] });
      expect(frame.durationMs).toBeGreaterThan(0);
    }
    const events = await lab.events();
    const starts = events.filter((e) => e.event === 'start');
    expect(starts).toHaveLength(1);
    expect(starts[0].argv).toEqual(expect.arrayContaining(['-t', '0', '-s', '--zsl']));
    expect(starts[0].argv).not.toContain('--immediate');
    const triggers = events.filter((e) => e.event === 'trigger');
    expect(triggers).toHaveLength(10);
    expect(triggers.every((t) => t.via === 'signal' && t.busy === false)).toBe(true);
    // Each trigger went out after the previous frame was on disk: never two in flight.
    const order = events.filter((e) => e.event === 'trigger' || e.event === 'frame').map((e) => e.event);
    expect(order).toEqual(Array.from({ length: 10 }, () => ['trigger', 'frame']).flat());
    // The numbered outputs were moved away, not copied.
    const [sessionDir] = await readdir(lab.workDir);
    expect(await readdir(path.join(lab.workDir, sessionDir))).toEqual([]);

    await camera.close();
    expect(processExists(starts[0].pid)).toBe(false);
    expect((await lab.events()).at(-1)).toMatchObject({ event: 'exit', reason: 'quit', pid: starts[0].pid });
    expect(await readdir(lab.workDir)).toEqual([]);
  });

  it('waits until the program can take SIGUSR1 before the first trigger', async ({ lab }) => {
    // Before its handler is installed SIGUSR1 kills rpicam-still; the fake dies the same way.
    const camera = lab.camera({ FAKE_RPICAM_STARTUP_MS: '400' });
    await camera.open(LOCKED);
    await camera.capture(lab.target(0));
    expect(await decodeImage(lab.target(0))).toMatchObject({ format: 'jpeg' });
  });
});

describe('metering', () => {
  it('meters once, then restarts with exposure, gain and white balance locked to what it measured', async ({
    lab,
  }) => {
    const camera = lab.camera({
      FAKE_RPICAM_AUTO_SHUTTER: '8000',
      FAKE_RPICAM_AUTO_GAIN: '3.25',
      FAKE_RPICAM_AUTO_AWB: '1.75,2.5',
    });
    await camera.open({ encoding: 'jpg', quality: 90, denoise: 'off' });
    const frame = await camera.capture(lab.target(0));
    await camera.capture(lab.target(1));

    const starts = (await lab.events()).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(2);
    const [meter, session] = starts.map((s) => s.argv ?? []);
    for (const option of ['-s', '--immediate', '--shutter', '--gain', '--awbgains']) {
      expect(meter).not.toContain(option);
    }
    const after = (option: string) => session[session.indexOf(option) + 1];
    expect(session).toContain('-s');
    expect(after('--shutter')).toBe('8000');
    expect(after('--gain')).toBe('3.25');
    expect(after('--awbgains')).toBe('1.75,2.5');
    expect(frame.exposure).toEqual({ shutterUs: 8000, analogueGain: 3.25, awbGains: [1.75, 2.5] });
    // The metering shot is not left among the frames.
    const [sessionDir] = await readdir(lab.workDir);
    expect(await readdir(path.join(lab.workDir, sessionDir))).toEqual([]);
  });

  it('meters only what was not fixed', async ({ lab }) => {
    const camera = lab.camera({ FAKE_RPICAM_AUTO_GAIN: '4' });
    await camera.open({ ...LOCKED, analogueGain: undefined });
    const starts = (await lab.events()).filter((e) => e.event === 'start');
    expect(starts[0].argv).toEqual(expect.arrayContaining(['--shutter', '10000']));
    const session = starts[1].argv ?? [];
    expect(session[session.indexOf('--shutter') + 1]).toBe('10000');
    expect(session[session.indexOf('--gain') + 1]).toBe('4');
    expect(session[session.indexOf('--awbgains') + 1]).toBe('1.25,2');
  });
});
