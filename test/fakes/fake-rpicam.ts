// Test kit for the fake rpicam-still: puts it on a PATH of its own under the names the driver looks for,
// runs drivers against it in a scratch folder, and reads back what it recorded (argv, triggers, frames).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { it as base } from 'vitest';
import { cameraSchema, type CameraConfig } from '../../src/config/schema.js';
import { RpicamCamera, type RpicamCameraOptions } from '../../src/rig/camera/rpicam-camera.js';
import type { CaptureSettings } from '../../src/rig/types.js';

/** The fake's executable (a `#!/usr/bin/env node` script). */
export const FAKE_RPICAM = fileURLToPath(new URL('./rpicam-still', import.meta.url));

/** Fast timings for the fake: 30 ms start-up, 5 ms frames, -t previews at 2 % of their length. */
export const FAST_FAKE: Record<string, string> = {
  FAKE_RPICAM_STARTUP_MS: '30',
  FAKE_RPICAM_FRAME_MS: '5',
  FAKE_RPICAM_CAPTURE_MS: '10',
  FAKE_RPICAM_WRITE_PAUSE_MS: '20',
  FAKE_RPICAM_TIMEOUT_SCALE: '0.02',
};

/** Settings with exposure, gain and white balance fixed: no metering shot. */
export const LOCKED: CaptureSettings = {
  encoding: 'jpg',
  quality: 85,
  denoise: 'cdn_off',
  shutterUs: 10000,
  analogueGain: 1.5,
  awbGains: [1.25, 2],
};

/** A small camera configuration with timeouts that suit a loaded 2-core test machine. */
export function testConfig(overrides: Partial<CameraConfig> = {}): CameraConfig {
  return cameraSchema.parse({
    width: 64,
    height: 48,
    startupTimeoutMs: 4000,
    frameTimeoutMs: 2000,
    ...overrides,
  });
}

/** Fully decodes an image (sharp rejects truncated data) and returns its size and format. */
export async function decodeImage(file: string) {
  const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const { format } = await sharp(file).metadata();
  return { width: info.width, height: info.height, format };
}

export interface FakeCameraBin {
  /** A folder holding only `node` and the fake under each requested name: use it as the whole PATH. */
  dir: string;
  cleanup(): Promise<void>;
}

/** A PATH folder where the fake answers to `names` (e.g. ['libcamera-still'] to test the fallback). */
export async function fakeCameraBin(names: string[]): Promise<FakeCameraBin> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fake-camera-bin-'));
  // The fake starts with #!/usr/bin/env node, so node must be on this PATH too.
  await symlink(process.execPath, path.join(dir, 'node'));
  for (const name of names) await symlink(FAKE_RPICAM, path.join(dir, name));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A spawn that adds `env` (FAKE_RPICAM_* knobs, PATH) to the child's environment. */
export function spawnWithEnv(env: Record<string, string>): typeof spawn {
  const wrapped = (command: string, args: readonly string[], options: Parameters<typeof spawn>[2]) =>
    spawn(command, args, { ...options, env: { ...process.env, ...env } });
  return wrapped as unknown as typeof spawn;
}

export interface FakeEvent {
  pid: number;
  t: number;
  event: 'start' | 'trigger' | 'frame' | 'exit' | 'hang';
  program?: string;
  argv?: string[];
  via?: 'signal' | 'keypress';
  /** The trigger came while a frame was being taken or another trigger was pending. */
  busy?: boolean;
  file?: string;
  code?: number;
  reason?: string;
}

/** Every event the fakes appended to FAKE_RPICAM_ARGS_LOG, in order. */
export async function readFakeLog(file: string): Promise<FakeEvent[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as FakeEvent);
}

/** Whether a process with this id exists (a zombie would still count: only a reaped child is gone). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A scratch folder for one test: the driver's work folder, the targets, and the fake's event log. */
export interface FakeCameraLab {
  root: string;
  workDir: string;
  /** The fake's event log (FAKE_RPICAM_ARGS_LOG). */
  log: string;
  /** Where a test puts frame n. */
  target(n: number): string;
  /** A spawn running the fake with FAST_FAKE, the log, and `env` on top. */
  spawn(env?: Record<string, string>): typeof spawn;
  /** A driver running the fake with `env`, closed when the test ends. */
  camera(env?: Record<string, string>, options?: Partial<RpicamCameraOptions>): RpicamCamera;
  events(): Promise<FakeEvent[]>;
  /** Pids of every fake process started so far. */
  pids(): Promise<number[]>;
}

export async function fakeCameraLab(): Promise<FakeCameraLab & { cleanup(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'stackscope-camera-'));
  const log = path.join(root, 'fake-events.jsonl');
  const cameras: RpicamCamera[] = [];
  const lab = {
    root,
    workDir: path.join(root, 'work'),
    log,
    target: (n: number) => path.join(root, `frame-${n}.jpg`),
    spawn: (env: Record<string, string> = {}) =>
      spawnWithEnv({ ...FAST_FAKE, FAKE_RPICAM_ARGS_LOG: log, ...env }),
    camera: (env: Record<string, string> = {}, options: Partial<RpicamCameraOptions> = {}) => {
      const camera = new RpicamCamera({
        config: testConfig(),
        workDir: lab.workDir,
        command: FAKE_RPICAM,
        spawn: lab.spawn(env),
        ...options,
      });
      cameras.push(camera);
      return camera;
    },
    events: () => readFakeLog(log),
    pids: async () => (await readFakeLog(log)).filter((e) => e.event === 'start').map((e) => e.pid),
    cleanup: async () => {
      await Promise.all(cameras.map((camera) => camera.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
  return lab;
}

/** vitest's `it` with a fresh `lab` per test, its cameras closed and its folder removed afterwards. */
export const cameraTest = base.extend<{ lab: FakeCameraLab }>({
  lab: async ({}, use) => {
    const lab = await fakeCameraLab();
    await use(lab);
    await lab.cleanup();
  },
});
