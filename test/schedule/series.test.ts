// A timelapse series end to end on the simulated microscope: the scheduler's clock is moved by the
// test, the jobs are real (job manager, job store in a temp folder, simulated rig in real time).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { EventBus } from '../../src/events.js';
import { JobManager } from '../../src/jobs/manager.js';
import { openSimulatedRig, type SimulatedRig } from '../../src/rig/simulated/rig.js';
import { Scheduler, type ScheduleEvent } from '../../src/schedule/scheduler.js';
import { ScheduleStore } from '../../src/schedule/store.js';
import { TimelapseBuilder } from '../../src/schedule/timelapse.js';
import { JobStore } from '../../src/store/job-store.js';
import { ManualClock } from './fakes.js';

const RUNS = 3;
const MIN = 60_000;

let dir = '';
let rig: SimulatedRig;
let jobStore: JobStore;
let scheduler: Scheduler;
const events: ScheduleEvent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-series-'));
  const config = configSchema.parse({
    dataDir: dir,
    rig: {
      type: 'simulated',
      stage: { settleMs: 0 },
      simulated: { width: 160, height: 120, depthRangeUm: 100, exposureMs: 0, timeScale: 200 },
    },
    jobs: { reserveMb: 0, align: 'none' },
  });
  rig = await openSimulatedRig(config.rig, { stateDir: dir });
  jobStore = await JobStore.open({ dataDir: dir });
  const bus = new EventBus();
  const manager = new JobManager({ rig, store: jobStore, bus, config });
  manager.start();
  const schedules = new ScheduleStore({ dataDir: dir });
  const clock = new ManualClock('2026-06-01T08:05:00Z');
  scheduler = new Scheduler({
    jobs: manager,
    jobStore,
    bus,
    stage: rig.stage,
    store: schedules,
    timelapse: new TimelapseBuilder({
      outputDir: (id) => schedules.outputDir(id),
      resultPath: (id, name) => jobStore.resultPath(id, name),
      ffmpeg: 'stackscope-no-such-ffmpeg',
    }),
    clock,
    onEvent: (e) => events.push(e),
  });
  await scheduler.start();
  await scheduler.create({
    id: 'mould',
    name: 'mould',
    cron: '*/30 * * * *',
    timezone: 'UTC',
    stack: { start: 940, end: 960, step: 20 },
    timelapse: { widthPx: 160 },
  });
  for (let run = 1; run <= RUNS; run++) {
    clock.advance(30 * MIN);
    await scheduler.whenSettled(); // the run's job is queued
    await manager.idle(); // … and done
    await scheduler.whenSettled(); // the run is recorded and its result in the film
  }
});

afterAll(async () => {
  await scheduler?.stop();
  await rig?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a timelapse series on the simulated rig', () => {
  it('runs ordinary stack jobs tagged with the schedule, at the same planes every time', async () => {
    const { jobs } = await jobStore.list();
    const ours = jobs.reverse();
    expect(ours).toHaveLength(RUNS);
    for (const [i, job] of ours.entries()) {
      expect(job.status).toBe('done');
      expect(job.kind).toBe('capture');
      expect(job.label).toBe(`mould #${i + 1}`);
      expect(job.params.schedule).toEqual({ id: 'mould', run: i + 1 });
      expect(job.params.planes).toEqual([940, 960]);
      await expect(stat(jobStore.resultPath(job.id, 'result.jpg'))).resolves.toBeTruthy();
    }
    const view = scheduler.get('mould');
    expect(view.state).toMatchObject({ runs: RUNS, runsDone: RUNS, runsFailed: 0, skippedTotal: 0 });
    expect(view.lastRun).toMatchObject({ run: RUNS, status: 'done', jobId: ours[RUNS - 1].id });
  });

  it('drops each run’s frames once it is stacked (keepFrames false), keeping the results', async () => {
    const { jobs } = await jobStore.list();
    for (const job of jobs) {
      expect(job.framesDeleted).toBe(true);
      expect(job.frames).toHaveLength(2);
      const left = await readdir(jobStore.framesDir(job.id)).catch(() => []);
      expect(left).toEqual([]);
    }
  });

  it('builds an animated WebP with one frame per run', async () => {
    const out = join(dir, 'schedules', 'mould');
    const meta = await sharp(join(out, 'timelapse.webp'), { animated: true }).metadata();
    expect(meta.pages).toBe(RUNS);
    expect([meta.width, meta.pageHeight]).toEqual([160, 120]);
    expect((await readdir(join(out, 'frames'))).sort()).toEqual([
      'r-000001.jpg',
      'r-000002.jpg',
      'r-000003.jpg',
    ]);
    expect(events.filter((e) => e.event === 'timelapse').map((e) => e.run)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.event === 'run-finished').map((e) => e.status)).toEqual([
      'done',
      'done',
      'done',
    ]);
  });
});
