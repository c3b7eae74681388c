import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulatedSchema } from '../../../src/config/schema.js';
import { SimulatedCamera } from '../../../src/rig/simulated/camera.js';
import { decodeFile } from '../../../src/stack/io.js';
import type { Frame } from '../../../src/stack/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-simcam-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    const camera = new SimulatedCamera({ config, focusUm: () => focus });
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
    const camera = new SimulatedCamera({ config, focusUm: () => focus });
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
    const camera = new SimulatedCamera({ config, focusUm: () => 1000 });
    await expect(camera.capture(join(dir, 'x.png'))).rejects.toMatchObject({ code: 'CAMERA_FAILED' });
    await camera.open(settings);
    const controller = new AbortController();
    const shot = camera.capture(join(dir, 'y.png'), { signal: controller.signal });
    controller.abort();
    await expect(shot).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await readdir(dir)).toEqual([]);
  });
});
