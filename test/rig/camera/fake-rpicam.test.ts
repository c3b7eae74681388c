// Checks that the fake rpicam-still springs the real program's traps (HARDWARE-NOTES.md), so the driver's
// tests against it mean something: timeouts, --immediate with -s, early and merged signals, in-place writes.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { cameraTest as it, FAKE_RPICAM, FAST_FAKE, type FakeCameraLab } from '../../fakes/fake-rpicam.js';

interface FakeRun {
  /** Resolves when stderr has printed a line matching `pattern`. */
  stderrLine(pattern: RegExp): Promise<void>;
  /** Resolves when stdout has printed n complete metadata blocks. */
  blocks(n: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  ended: Promise<{ code: number | null; stderr: string }>;
}

function runFake(args: string[], env: Record<string, string>): FakeRun {
  const child = spawn(FAKE_RPICAM, args, {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  const notify = () => waiters.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), notify()));
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), notify()));
  const when = (ok: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => ok() && resolve();
      waiters.push(check);
      check();
    });
  return {
    stderrLine: (pattern) => when(() => pattern.test(stderr)),
    blocks: (n) => when(() => stdout.split('\n\n').length - 1 >= n),
    kill: (signal) => child.kill(signal),
    ended: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function outputArgs(lab: FakeCameraLab, ...more: string[]): string[] {
  return [
    '-n',
    '-o',
    path.join(lab.root, 'f_%04d.jpg'),
    '--metadata',
    '-',
    '--metadata-format',
    'txt',
    ...more,
  ];
}
const env = (lab: FakeCameraLab) => ({
  ...FAST_FAKE,
  FAKE_RPICAM_TIMEOUT_SCALE: '1',
  FAKE_RPICAM_ARGS_LOG: lab.log,
});
const jpegs = async (lab: FakeCameraLab) => (await readdir(lab.root)).filter((f) => f.endsWith('.jpg'));

// Each test has its own folder, so they run side by side (they mostly wait on timers).
describe.concurrent('the fake rpicam-still', () => {
  it('with -s but without -t 0, quits at the timeout without capturing', async ({ lab }) => {
    const run = runFake(outputArgs(lab, '-s', '-t', '150'), env(lab));
    expect((await run.ended).code).toBe(0);
    expect(await jpegs(lab)).toEqual([]);
    expect((await lab.events()).at(-1)).toMatchObject({ event: 'exit', reason: 'timeout without trigger' });
  });

  it('without -s or -k, shoots once when the preview timeout ends (as plain rpicam-still -o does)', async ({
    lab,
  }) => {
    const run = runFake(outputArgs(lab, '-t', '100'), env(lab));
    expect((await run.ended).code).toBe(0);
    expect(await jpegs(lab)).toEqual(['f_0000.jpg']);
  });

  it('with --immediate and -s, takes one shot and exits (rpicam-apps #488)', async ({ lab }) => {
    const run = runFake(outputArgs(lab, '-s', '-t', '0', '--immediate', '--framestart', '5'), env(lab));
    await run.stderrLine(/Mode selection/);
    run.kill('SIGUSR1');
    await run.blocks(1);
    run.kill('SIGUSR1');
    expect((await run.ended).code).toBe(0);
    expect(await jpegs(lab)).toEqual(['f_0005.jpg']);
  });

  it('dies of a SIGUSR1 that comes before its handler is installed', async ({ lab }) => {
    const run = runFake(outputArgs(lab, '-s', '-t', '0'), { ...env(lab), FAKE_RPICAM_STARTUP_MS: '2000' });
    await run.stderrLine(/libcamera v/);
    run.kill('SIGUSR1');
    const { code, stderr } = await run.ended;
    expect(code).toBe(138);
    expect(stderr).toMatch(/before the handler/);
  });

  it('merges two signals inside one camera frame into one capture', async ({ lab }) => {
    // The first frame ends 0.5 s after the configuration line: both signals land inside it.
    const run = runFake(outputArgs(lab, '-s', '-t', '0'), { ...env(lab), FAKE_RPICAM_FRAME_MS: '500' });
    await run.stderrLine(/Mode selection/);
    run.kill('SIGUSR1');
    await sleep(20);
    run.kill('SIGUSR1');
    await run.blocks(1);
    // A frame later: had the second signal survived, it would have made a second capture by now.
    await sleep(600);
    run.kill('SIGUSR2');
    expect((await run.ended).code).toBe(0);
    expect(await jpegs(lab)).toEqual(['f_0000.jpg']);
    const triggers = (await lab.events()).filter((e) => e.event === 'trigger');
    expect(triggers.map((t) => t.busy)).toEqual([false, true]);
  });

  it('writes the file in place: a watcher can see half a JPEG before the metadata says it is saved', async ({
    lab,
  }) => {
    const run = runFake(outputArgs(lab, '-s', '-t', '0'), { ...env(lab), FAKE_RPICAM_WRITE_PAUSE_MS: '400' });
    await run.stderrLine(/Mode selection/);
    run.kill('SIGUSR1');
    const file = path.join(lab.root, 'f_0000.jpg');
    let early: Buffer | undefined;
    while (!early) early = await readFile(file).catch(() => undefined);
    await run.blocks(1);
    const complete = await readFile(file);
    run.kill('SIGUSR2');
    await run.ended;
    expect(early.length).toBeLessThan(complete.length);
    expect(complete.subarray(-2).toString('hex')).toBe('ffd9');
  });

  it('refuses an option it does not know, as boost::program_options does', async ({ lab }) => {
    const { code, stderr } = await runFake(['--no-such-option'], env(lab)).ended;
    expect(code).toBe(255);
    expect(stderr).toContain("unrecognised option '--no-such-option'");
  });
});
