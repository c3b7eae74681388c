// The job manager's endings that went wrong before: a stage stop landing mid-move is the user's own
// cancel (status cancelled, stage left where it stopped), and a final status the full disk refused is
// failed in memory at once (get shows it) and written as soon as there is room.
import * as nodeFs from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { EventBus } from '../../src/events.js';
import { JobManager } from '../../src/jobs/manager.js';
import { openSimulatedRig, type SimulatedRig } from '../../src/rig/simulated/rig.js';
import { JobStore } from '../../src/store/job-store.js';
import { defaultFs, type StoreFs } from '../../src/store/store-fs.js';
import { testConfig, until, waitForJob } from '../helpers/daemon.js';

interface Setup {
  dir: string;
  config: Config;
  rig: SimulatedRig;
  store: JobStore;
  bus: EventBus;
  jobs: JobManager;
}

let setup: Setup | undefined;
afterEach(async () => {
  if (!setup) return;
  await setup.jobs.shutdown();
  await setup.rig.close();
  await rm(setup.dir, { recursive: true, force: true });
  setup = undefined;
});

async function start(overrides: Record<string, unknown>, fs?: StoreFs): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'stackscope-manager-'));
  const config = testConfig(dir, overrides);
  const rig = await openSimulatedRig(config.rig, { stateDir: join(dir, 'state') });
  const store = await JobStore.open({ dataDir: dir, fs, unsavedRetryMs: 50 });
  const bus = new EventBus();
  const jobs = new JobManager({ rig, store, bus, config });
  jobs.start();
  setup = { dir, config, rig, store, bus, jobs };
  return setup;
}

describe('JobManager', () => {
  it('ends a job whose move is stopped from outside as cancelled, leaving the stage where it stopped', async () => {
    // Real-time moves (~0.2 s per plane), instant exposures: the stop lands inside a move.
    const s = await start({ rig: { simulated: { timeScale: 1, exposureMs: 0 } } });
    const job = await s.jobs.submitCapture({ frames: 20, step: 10, returnToStart: true });
    await until(async () => (await s.store.get(job.id)).frames.length >= 1);
    await new Promise<void>((resolve) => {
      const unsubscribe = s.rig.stage.onEvent((event) => {
        if (event.type !== 'move-start') return;
        unsubscribe();
        resolve();
      });
    });
    await s.rig.stage.stop();
    const stoppedAt = s.rig.stage.position().um;
    const ended = await waitForJob(s, job.id, ['done', 'failed', 'cancelled']);
    expect(ended.status).toBe('cancelled');
    expect(ended.error).toBeUndefined();
    expect(ended.note).toMatch(/^the stage was stopped during the job: the move from .* was stopped at/);
    expect(ended.frames.length).toBeGreaterThanOrEqual(1);
    // A stop means stop: not even the return to the start moves the stage.
    expect(s.rig.stage.position().um).toBe(stoppedAt);
    expect(s.jobs.running()).toBeNull();
  });

  it('marks a job failed in memory when the disk refuses its final status, and writes it once there is room', async () => {
    const disk = { full: false };
    const fs: StoreFs = {
      ...defaultFs,
      open: (async (path: string, flags?: string, mode?: number) => {
        if (disk.full && flags === 'wx')
          throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), {
            code: 'ENOSPC',
          });
        return nodeFs.open(path, flags, mode);
      }) as StoreFs['open'],
    };
    const s = await start({ rig: { simulated: { timeScale: 10, exposureMs: 1000 } } }, fs);
    const job = await s.jobs.submitCapture({ frames: 20, step: 10 });
    await until(async () => (await s.store.get(job.id)).frames.length >= 2);
    disk.full = true;
    await until(() => s.jobs.running() === null);
    const manifestPath = join(s.store.jobDir(job.id), 'manifest.json');
    const onDisk = async () => JSON.parse(await readFile(manifestPath, 'utf8')) as { status: string };
    // The disk still holds the status from before the disk filled; get already says failed, and why.
    expect((await onDisk()).status).toBe('capturing');
    const shown = await s.store.get(job.id);
    expect(shown).toMatchObject({
      status: 'failed',
      error: { code: 'DISK_FULL', message: expect.stringMatching(/status could not be saved.*disk is full/) },
    });
    expect(shown.frames.length).toBeGreaterThanOrEqual(2);
    expect((await s.store.list()).jobs.find((j) => j.id === job.id)?.status).toBe('failed');
    disk.full = false;
    // The file shows the status at its rename; the store counts it saved once the folder's fsync
    // after that returns, a moment later: wait for both.
    await until(async () => (await onDisk()).status === 'failed' && !s.store.isUnsaved(job.id), 5000);
    expect((await onDisk()).status).toBe('failed');
    expect(s.store.isUnsaved(job.id)).toBe(false);
    expect(await s.store.get(job.id)).toEqual(shown);
  });
});
