// The simulated camera: defocus by the distance from the specimen, wobble, cancel, fault injection,
// and its render thread (started by open, ended by close, the scene kept for the next session).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulatedSchema, type SimulatedConfig } from '../../../src/config/schema.js';
import { SimulatedCamera } from '../../../src/rig/simulated/camera.js';
import { decodeFile } from '../../../src/stack/io.js';
import type { Frame } from '../../../src/stack/types.js';

let dir: string;
const cameras: SimulatedCamera[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-simcam-'));
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.close()));
  await rm(dir, { recursive: true, force: true });
});

/** A camera closed after the test. */
function cameraFor(config: SimulatedConfig, focusUm: () => number): SimulatedCamera {
  const camera = new SimulatedCamera({ config, focusUm });
  cameras.push(camera);
  return camera;
}

const settings = { encoding: 'png' as const, quality: 90, denoise: 'off' as const };

/** Mean squared difference between neighbouring pixels of the green channel: higher is sharper. */
function contrast(f: Frame): number {
  let sum = 0;
  for (let i = 3; i < f.data.length; i += 3) sum += (f.data[i + 1] - f.data[i - 2]) ** 2;
  return sum / (f.data.length / 3);
}

describe('SimulatedCamera', () => {
  it('renders the specimen blurred by the distance of the focus from its surface', async () => {
    let focus = 1000;
    const config = simulatedSchema.parse({
      width: 160,
      height: 120,
      exposureMs: 0,
      blurPxPerUm: 0.1,
      noise: 0,
    });
    const camera = cameraFor(config, () => focus);
    await camera.open(settings);
    const shots: number[] = [];
    for (const um of [1000, 1200, 1400]) {
      focus = um;
      const file = join(dir, `f${um}.png`);
      const shot = await camera.capture(file);
      expect(shot.file).toBe(file);
      shots.push(contrast(await decodeFile(file)));
    }
    // Inside the specimen's relief (900–1100 µm) the frame is sharpest; further up, ever blurrier.
    expect(shots[0]).toBeGreaterThan(shots[1]);
    expect(shots[1]).toBeGreaterThan(shots[2]);
    // Written under a temporary name and renamed: nothing else is left in the folder.
    expect((await readdir(dir)).sort()).toEqual(['f1000.png', 'f1200.png', 'f1400.png']);
  });

  it('wobble moves the picture from one stage position to the next; the same position repeats', async () => {
    let focus = 1000;
    const config = simulatedSchema.parse({ width: 160, height: 120, exposureMs: 0, noise: 0, wobblePx: 3 });
    const camera = cameraFor(config, () => focus);
    await camera.open(settings);
    const grab = async (um: number, name: string) => {
      focus = um;
      await camera.capture(join(dir, name));
      return decodeFile(join(dir, name));
    };
    const a = await grab(1000, 'a.png');
    const b = await grab(1000.5, 'b.png');
    const c = await grab(1000, 'c.png');
    const diff = (x: Frame, y: Frame) => {
      let sum = 0;
      for (let i = 0; i < x.data.length; i++) sum += Math.abs(x.data[i] - y.data[i]);
      return sum / x.data.length;
    };
    expect(diff(a, c)).toBe(0);
    expect(diff(a, b)).toBeGreaterThan(5);
  });

  it('refuses a capture before open(), and a cancelled exposure writes nothing', async () => {
    const config = simulatedSchema.parse({ width: 64, height: 48, exposureMs: 2000 });
    const camera = cameraFor(config, () => 1000);
    await expect(camera.capture(join(dir, 'x.png'))).rejects.toMatchObject({ code: 'CAMERA_FAILED' });
    await camera.open(settings);
    const controller = new AbortController();
    const shot = camera.capture(join(dir, 'y.png'), { signal: controller.signal });
    controller.abort();
    await expect(shot).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('renders on its own thread, which close() ends; a new session renders the same specimen', async () => {
    const config = simulatedSchema.parse({ width: 96, height: 72, exposureMs: 0, noise: 0 });
    const camera = cameraFor(config, () => 1010);
    expect(camera.renderThreadId).toBeNull();
    await camera.open(settings);
    const renderThread = camera.renderThreadId;
    expect(renderThread).not.toBeNull();
    expect(renderThread).not.toBe(threadId);
    await camera.capture(join(dir, 'a.png'));
    await camera.close();
    expect(camera.renderThreadId).toBeNull();
    await expect(camera.capture(join(dir, 'x.png'))).rejects.toMatchObject({ code: 'CAMERA_FAILED' });
    await camera.open(settings);
    expect(camera.renderThreadId).not.toBe(renderThread);
    await camera.capture(join(dir, 'b.png'));
    await camera.close();
    // The same focus, no noise: the second session's frame is the first one, bit for bit.
    expect(await readFile(join(dir, 'b.png'))).toEqual(await readFile(join(dir, 'a.png')));
  });

  it('injects faults: a crash every N captures, and a frame cut short every M', async () => {
    const config = simulatedSchema.parse({
      width: 64,
      height: 48,
      exposureMs: 0,
      faults: { crashEvery: 3, corruptFrameEvery: 2 },
    });
    const camera = cameraFor(config, () => 1000);
    await camera.open({ ...settings, encoding: 'jpg' });
    const outcomes: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const file = join(dir, `f${i}.jpg`);
      const shot = await camera.capture(file).then(
        async () => {
          const bytes = await readFile(file);
          // A whole JPEG ends with its end-of-image marker; a cut one does not.
          return bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9 ? 'whole' : 'cut';
        },
        (error: { code: string }) => error.code,
      );
      outcomes.push(shot);
    }
    expect(outcomes).toEqual(['whole', 'cut', 'CAMERA_FAILED', 'cut']);
  });
});
