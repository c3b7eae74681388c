// A full disk through the API: a stack that would not fit is refused (507 DISK_FULL naming the sizes);
// a disk that fills up mid-stack stops the job cleanly with its frames kept; a write failing with
// ENOSPC does not take the daemon down. Free space and ENOSPC are injected through the store's fs.
import * as nodeFs from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/events.js';
import { defaultFs, type StoreFs } from '../../src/store/store-fs.js';
import {
  errorBody,
  framesAtLeast,
  SLOW_RIG,
  startTestApp,
  until,
  waitForJob,
  type TestApp,
} from '../helpers/daemon.js';

/** Time to change the disk mid-stack, and a 1 MB reserve to run into. */
const SLOW = { ...SLOW_RIG, jobs: { reserveMb: 1 } };

/** The real file system, with the free space statfs reports and ENOSPC on new files under test control. */
function controlledFs() {
  const disk = { freeBytes: 100e9, enospc: false };
  const fs: StoreFs = {
    ...defaultFs,
    statfs: (async (path: string) => {
      const real = await nodeFs.statfs(path);
      return { ...real, bavail: Math.floor(disk.freeBytes / real.bsize) };
    }) as StoreFs['statfs'],
    open: (async (path: string, flags?: string, mode?: number) => {
      if (disk.enospc && flags === 'wx')
        throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
      return nodeFs.open(path, flags, mode);
    }) as StoreFs['open'],
  };
  return { fs, disk };
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function submit(app: TestApp, body: object = { frames: 20, step: 10 }) {
  return app.app.inject({ method: 'POST', url: '/api/stacks', payload: body });
}

describe('disk full', () => {
  it('refuses a stack that would eat into the reserve: 507 DISK_FULL naming needed and free space', async () => {
    t = await startTestApp({ config: { jobs: { reserveMb: 1_000_000_000 } } });
    const response = await submit(t, { frames: 5, step: 10 });
    expect(response.statusCode).toBe(507);
    const body = errorBody(response);
    expect(body.error).toBe('DISK_FULL');
    expect(body.message).toMatch(
      /a 5-frame stack needs about .+ and .+ must stay free, but only .+ are free/,
    );
    expect((await t.app.inject({ url: '/api/stacks' })).json<{ jobs: unknown[] }>().jobs).toHaveLength(0);
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });

  it('stops a stack cleanly when the disk fills up mid-way; frames so far are kept and served', async () => {
    const { fs, disk } = controlledFs();
    t = await startTestApp({ config: SLOW, storeFs: fs });
    const started = await submit(t);
    expect(started.statusCode).toBe(202);
    const { id } = started.json<{ id: string }>();
    await framesAtLeast(t, id, 2);
    disk.freeBytes = 200_000; // below the 1 MB reserve
    const job = await waitForJob(t, id, ['failed', 'done']);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'DISK_FULL', message: expect.stringMatching(/frame \d+ needs/) });
    expect(job.frames.length).toBeGreaterThanOrEqual(2);
    expect(job.frames.length).toBeLessThan(20);
    for (const frame of job.frames)
      expect((await t.app.inject({ url: `/api/stacks/${id}/frames/${frame.index}` })).statusCode).toBe(200);
    expect(t.rig.indicator.state).toBe('error');
    // Still full: the next stack is refused up front; once there is room again, it runs.
    const refused = await submit(t, { frames: 2, step: 5 });
    expect(refused.statusCode).toBe(507);
    expect(errorBody(refused).error).toBe('DISK_FULL');
    disk.freeBytes = 100e9;
    const again = await submit(t, { frames: 2, step: 5 });
    expect(again.statusCode).toBe(202);
    expect((await waitForJob(t, again.json<{ id: string }>().id, ['done', 'failed'])).status).toBe('done');
  });

  it('survives ENOSPC on the job’s own manifest writes: the job shows failed at once, the daemon goes on', async () => {
    const { fs, disk } = controlledFs();
    t = await startTestApp({ config: SLOW, storeFs: fs });
    const events: DaemonEvent[] = [];
    t.bus.subscribe((e) => events.push(e));
    const { id } = (await submit(t)).json<{ id: string }>();
    await framesAtLeast(t, id, 2);
    disk.enospc = true;
    await until(() => t!.jobs.running() === null);
    expect(events).toContainEqual(expect.objectContaining({ type: 'job', id, status: 'failed' }));
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    // Nothing can be written: a new job cannot even be created, and says why.
    const refused = await submit(t, { frames: 2, step: 5 });
    expect(refused.statusCode).toBe(507);
    expect(errorBody(refused)).toMatchObject({
      error: 'DISK_FULL',
      message: expect.stringContaining('disk is full'),
    });
    // The job's last status could not be written: it is failed in memory (the store writes it once
    // there is room), so GET says failed, and why, while the disk is still full.
    const shown = await t.app.inject({ url: `/api/stacks/${id}` });
    expect(shown.json()).toMatchObject({ id, status: 'failed', error: { code: 'DISK_FULL' } });
    disk.enospc = false;
    const job = await t.store.get(id);
    expect(job.status).toBe('failed');
    expect(job.frames.length).toBeGreaterThanOrEqual(2);
    const next = await submit(t, { frames: 2, step: 5 });
    expect((await waitForJob(t, next.json<{ id: string }>().id, ['done', 'failed'])).status).toBe('done');
  });
});
