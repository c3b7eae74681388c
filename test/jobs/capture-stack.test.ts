// captureAndStack on the simulated microscope: every plane moved to, captured and merged; cancel
// between planes; the frame records written behind the loop, in order, a failed one stopping the stack.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rigSchema } from '../../src/config/schema.js';
import { StackscopeError } from '../../src/errors.js';
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

  it('writes a frame record while the stage moves on and the next frame is taken, one behind, in order', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const { sink } = sinkIn(dir);
    const log: string[] = [];
    const { stage, camera } = rig;
    const planes = [900, 910, 920, 930];
    let moves = 0;
    let captures = 0;
    // A record lands only once the next frame has been taken (or after 2 s, should the loop wait for
    // it before that capture: the order checks below then fail rather than hang).
    const captureStarts = planes.map(() => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const landsAfterNextCapture = (i: number) =>
      i + 1 < planes.length
        ? Promise.race([captureStarts[i + 1].promise, new Promise((resolve) => setTimeout(resolve, 2000))])
        : Promise.resolve();
    const { timings } = await captureAndStack({
      rig: {
        stage: new Proxy(stage, {
          get: (target, key) =>
            key === 'moveTo'
              ? (um: number, options?: { signal?: AbortSignal }) => {
                  log.push(`move ${moves++}`);
                  return target.moveTo(um, options);
                }
              : (Reflect.get(target, key, target) as unknown),
        }),
        camera: {
          description: camera.description,
          open: (settings) => camera.open(settings),
          close: () => camera.close(),
          capture: (file, options) => {
            log.push(`capture ${captures}`);
            captureStarts[captures++]?.resolve();
            return camera.capture(file, options);
          },
        },
      },
      planes,
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1 },
      sink: {
        ...sink,
        frameCaptured: async (i) => {
          await landsAfterNextCapture(i);
          log.push(`recorded ${i}`);
        },
        frameStacked: async (i) => {
          log.push(`stacked ${i}`);
        },
      },
    });
    for (let i = 0; i < 3; i++) {
      // Frame i's record lands after the move to the next plane and its capture have started...
      expect(log.indexOf(`move ${i + 1}`)).toBeLessThan(log.indexOf(`recorded ${i}`));
      expect(log.indexOf(`capture ${i + 1}`)).toBeLessThan(log.indexOf(`recorded ${i}`));
    }
    // ...but before the capture after that: never more than one record behind.
    for (let i = 0; i < 2; i++)
      expect(log.indexOf(`capture ${i + 2}`)).toBeGreaterThan(log.indexOf(`recorded ${i}`));
    // Records land in order, and a frame's merge is recorded only after its capture record.
    expect(log.filter((l) => l.startsWith('recorded'))).toEqual([
      'recorded 0',
      'recorded 1',
      'recorded 2',
      'recorded 3',
    ]);
    for (let i = 0; i < 4; i++)
      expect(log.indexOf(`stacked ${i}`)).toBeGreaterThan(log.indexOf(`recorded ${i}`));
    expect(timings.ownMs).toHaveLength(4);
    expect(timings.recordWaitMs).toHaveLength(4);
    expect(timings.ownMs.every((ms) => ms >= 0)).toBe(true);
  });

  it('fails the stack at the next step when a record fails, with that error; no record lands after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const { sink, events } = sinkIn(dir);
    let returned = false;
    const run = captureAndStack({
      rig,
      planes: [900, 910, 920, 930, 940, 950, 960, 970],
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1 },
      sink: {
        ...sink,
        frameCaptured: async (i, record) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (i === 1) throw new StackscopeError('DISK_FULL', 'cannot write manifest.json: the disk is full');
          await sink.frameCaptured(i, record);
          if (returned) events.push(`late record ${i}`);
        },
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'DISK_FULL' });
    returned = true;
    // Frame 1's record failed before or while frame 2 was taken: frame 3 never was, and no record
    // after the failed one was asked for (a frame 2 would be on disk, not listed).
    const frames = (await readdir(dir)).filter((f) => f.startsWith('frame_')).sort();
    expect(frames.slice(0, 2)).toEqual(['frame_000.jpg', 'frame_001.jpg']);
    expect(frames.length).toBeLessThanOrEqual(3);
    expect(events.filter((e) => e.startsWith('captured'))).toEqual(['captured 0 at 900.00']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.filter((e) => e.startsWith('late'))).toEqual([]);
  });
});

describe('the reference frame of an aligning capture', () => {
  /** The file names the test sink gives frames 0 … n − 1. */
  const frameNames = (n: number) =>
    Array.from({ length: n }, (_, i) => `frame_${String(i).padStart(3, '0')}.jpg`);

  /** The camera's shots, in order, by file name. */
  function recordShots(r: SimulatedRig): string[] {
    const shots: string[] = [];
    const capture = r.camera.capture.bind(r.camera);
    r.camera.capture = (file, options) => {
      shots.push(file);
      return capture(file, options);
    };
    return shots;
  }

  it('is taken where the stage stands, before the sweep, when that is inside it, and then removed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const startUm = rig.stage.position().um;
    const planes = [-20, -10, 0, 10, 20].map((d) => startUm + d);
    const shots = recordShots(rig);
    const { sink } = sinkIn(dir);
    sink.referencePath = (ext) => join(dir, `reference.${ext}`);
    const { result, referenceStageUm } = await captureAndStack({
      rig,
      planes,
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1 },
      sink,
    });
    expect(referenceStageUm).toBe(startUm);
    expect(shots.map((f) => basename(f))).toEqual(['reference.jpg', ...frameNames(5)]);
    expect(await readdir(dir)).not.toContain('reference.jpg');
    // Every frame is estimated against the shot (none is the reference itself, whose transform would
    // be the exact identity); the stage does not wobble here, so each lands within a fraction of a
    // pixel of it (the slide of the tilted specimen, docs/alignment.md).
    expect(result.alignment).toHaveLength(5);
    for (const a of result.alignment) {
      expect(a).toMatchObject({ source: 'reference', trusted: true });
      expect(a.transform.dx !== 0 || a.transform.dy !== 0).toBe(true);
      expect(Math.hypot(a.transform.dx, a.transform.dy)).toBeLessThan(0.5);
      expect(Math.abs(a.transform.scale - 1)).toBeLessThan(0.005);
    }
  });

  it('is taken at the sweep’s middle plane when the stage stands outside the sweep or at its end', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const startUm = rig.stage.position().um;
    const shots = recordShots(rig);
    const moves: number[] = [];
    const moveTo = rig.stage.moveTo.bind(rig.stage);
    rig.stage.moveTo = (um, options) => {
      moves.push(um - startUm);
      return moveTo(um, options);
    };
    const { sink } = sinkIn(dir);
    sink.referencePath = (ext) => join(dir, `reference.${ext}`);
    const opened = rig;
    const run = (planes: number[]) =>
      captureAndStack({
        rig: opened,
        planes: planes.map((d) => startUm + d),
        settleMs: 0,
        camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
        stack: { threads: 1 },
        sink,
        returnToStart: true,
      });
    // Beyond the sweep: to the middle plane for the shot, then the sweep from its first plane.
    const outside = await run([10, 20, 30, 40]);
    expect(outside.referenceStageUm).toBe(startUm + 20);
    expect(moves).toEqual([20, 10, 20, 30, 40, 0]);
    expect(shots.map((f) => basename(f))).toEqual(['reference.jpg', ...frameNames(4)]);
    // Every frame is estimated against the shot, the one taken at the same plane too.
    expect(outside.result.alignment.map((a) => a.source)).toEqual(Array(4).fill('reference'));
    expect(outside.result.alignment.every((a) => a.transform.dx !== 0 || a.transform.dy !== 0)).toBe(true);
    expect(await readdir(dir)).not.toContain('reference.jpg');
    // At the sweep's first plane (start/end from where the stage stands): the same.
    moves.length = 0;
    const atStart = await run([0, -10, -20]);
    expect(atStart.referenceStageUm).toBe(startUm - 10);
    expect(moves).toEqual([-10, 0, -10, -20, 0]);
  });

  it('is the first frame when the stack is unaligned or too short', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-capture-'));
    rig = await openSimulatedRig(config, { stateDir: dir });
    const startUm = rig.stage.position().um;
    const shots = recordShots(rig);
    const { sink } = sinkIn(dir);
    sink.referencePath = (ext) => join(dir, `reference.${ext}`);
    const short = await captureAndStack({
      rig,
      planes: [-10, 10].map((d) => startUm + d),
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1 },
      sink,
    });
    expect(short.referenceStageUm).toBeNull();
    expect(short.result.alignment[0].transform).toMatchObject({ dx: 0, dy: 0, confidence: 1 });
    await rig.stage.moveTo(startUm);
    const unaligned = await captureAndStack({
      rig,
      planes: [-10, 0, 10].map((d) => startUm + d),
      settleMs: 0,
      camera: { encoding: 'jpg', quality: 90, denoise: 'off' },
      stack: { threads: 1, align: 'none' },
      sink,
    });
    expect(unaligned.referenceStageUm).toBeNull();
    expect(shots.filter((f) => basename(f).startsWith('reference'))).toEqual([]);
  });
});
