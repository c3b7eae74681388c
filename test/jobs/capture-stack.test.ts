import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rigSchema } from '../../src/config/schema.js';
import { captureAndStack, type CaptureStackSink } from '../../src/jobs/capture-stack.js';
import { planFocusPositions } from '../../src/jobs/plan.js';
import { openSimulatedRig, type SimulatedRig } from '../../src/rig/simulated/rig.js';
import { decodeFile } from '../../src/stack/io.js';
import type { Frame } from '../../src/stack/types.js';

/** Mean absolute 4-neighbour Laplacian of the green channel: higher is sharper. */
function sharpness(frame: Frame): number {
  const { width: w, height: h, channels: ch, data } = frame;
  let sum = 0;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const p = (y * w + x) * ch + 1;
      sum += Math.abs(4 * data[p] - data[p - ch] - data[p + ch] - data[p - w * ch] - data[p + w * ch]);
    }
  return sum / ((w - 2) * (h - 2));
}

const config = rigSchema.parse({
  type: 'simulated',
  stage: { settleMs: 0 },
  simulated: { width: 192, height: 144, depthRangeUm: 100, blurPxPerUm: 0.08, exposureMs: 0, timeScale: 200 },
});

let dir = '';
let rig: SimulatedRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sinkIn(folder: string) {
  const events: string[] = [];
  const sink: CaptureStackSink = {
    framePath: (i, ext) => join(folder, `frame_${String(i).padStart(3, '0')}.${ext}`),
    outputs: { image: join(folder, 'result.png'), depthMap: join(folder, 'depth.png') },
    frameCaptured: async (i, record) => {
      events.push(`captured ${i} at ${record.stageUm.toFixed(2)}`);
    },
    frameStacked: async (i) => {
      events.push(`stacked ${i}`);
    },
  };
  return { sink, events };
}

describe('captureAndStack on the simulated microscope', () => {
  it('moves, captures and stacks every plane; the result is sharper than every frame', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const planes = planFocusPositions(
      { start: 900, end: 1000, step: 10 },
      { currentUm: rig.stage.position().um, limits: rig.stage.limits, stepUm: rig.stage.stepUm },
    );
    const { sink, events } = sinkIn(dir);
    const previews: { stacked: number; width: number; sharpness: number }[] = [];
    sink.preview = async (frame, stacked) => {
      previews.push({ stacked, width: frame.width, sharpness: sharpness(frame) });
    };
    const progress: number[] = [];
    const { result, timings } = await captureAndStack({
      rig,
      planes,
      settleMs: 0,
      camera: { encoding: 'png', quality: 93, denoise: 'off' },
      stack: { threads: 1 },
      sink,
      onProgress: (p) => progress.push(p.stacked),
    });
    expect(result.frames).toBe(11);
    expect(timings.captureMs).toHaveLength(11);
    // Frame k is stacked after it was captured, and capture k + 1 does not wait for the end.
    expect(events.indexOf('captured 1 at 910.00')).toBeGreaterThan(-1);
    expect(events.indexOf('stacked 0')).toBeGreaterThan(events.indexOf('captured 0 at 900.00'));
    expect(progress.at(-1)).toBe(11);
    // The running composite: full size, and sharper as frames are merged.
    expect(previews.length).toBeGreaterThan(3);
    expect(previews.every((p) => p.width === 192)).toBe(true);
    expect(previews.at(-1)!.sharpness).toBeGreaterThan(previews[0].sharpness);
    const frames = (await readdir(dir)).filter((f) => f.startsWith('frame_'));
    expect(frames).toHaveLength(11);
    const stacked = sharpness(await decodeFile(join(dir, 'result.png')));
    let sharpest = 0;
    for (const f of frames) sharpest = Math.max(sharpest, sharpness(await decodeFile(join(dir, f))));
    expect(stacked).toBeGreaterThan(sharpest * 1.1);
  });

  it('a cancel stops the stack between planes and returns the stage to where it started', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const startUm = rig.stage.position().um;
    const controller = new AbortController();
    const { sink } = sinkIn(dir);
    const run = captureAndStack({
      rig,
      planes: [900, 910, 920, 930, 940, 950],
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1 },
      sink: {
        ...sink,
        frameCaptured: async (i, record) => {
          if (i === 2) controller.abort();
          await sink.frameCaptured(i, record);
        },
      },
      signal: controller.signal,
      returnToStart: true,
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(rig.stage.position().um).toBeCloseTo(startUm, 3);
    const frames = (await readdir(dir)).filter((f) => f.startsWith('frame_'));
    expect(frames).toHaveLength(3);
  });
});
