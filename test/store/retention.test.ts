// Retention: frames of finished jobs go by age and then oldest first down to a size budget;
// results and manifests stay, active jobs and the sources of pending restacks are never touched.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/job-store.js';
import type { JobStatus, Manifest } from '../../src/store/manifest.js';
import { applyRetention, measureFrames, removeFrames } from '../../src/store/retention.js';
import { fakeClock, makeTempDir, removeTempDir } from './store-helpers.js';

const DAY = 86_400_000;
const GB = 1e9;
let dataDir: string;
let clock: ReturnType<typeof fakeClock>;
let store: JobStore;

beforeEach(async () => {
  dataDir = await makeTempDir('stackscope-retention-');
  clock = fakeClock('2026-01-01T00:00:00Z');
  store = await JobStore.open({ dataDir, now: clock.now });
});
afterEach(() => removeTempDir(dataDir));

/** A job created on `day` (days after 1 Jan), ended in `status`, with frame files of `frameBytes` each. */
async function jobOn(day: number, status: JobStatus, frameBytes = [100, 100], extra: Partial<Manifest> = {}) {
  clock.set(new Date(Date.parse('2026-01-01T00:00:00Z') + day * DAY).toISOString());
  const job = await store.create({ kind: 'capture' });
  for (const [i, bytes] of frameBytes.entries())
    writeFileSync(store.framePath(job.id, i, 'jpg'), Buffer.alloc(bytes));
  writeFileSync(store.resultPath(job.id, 'result.jpg'), 'result');
  return store.update(job.id, (m) => {
    Object.assign(m, extra);
    m.status = status;
    if (status !== 'capturing' && status !== 'stacking' && status !== 'queued')
      m.finishedAt = clock.now().toISOString();
  });
}

const framesExist = (id: string) => existsSync(join(dataDir, 'jobs', id, 'frames'));

describe('applyRetention by age', () => {
  it('removes frames of jobs finished more than N days ago, keeping results, manifests and active jobs', async () => {
    const old = await jobOn(1, 'done');
    const oldFailed = await jobOn(2, 'failed');
    const oldRunning = await jobOn(3, 'capturing');
    const oldQueued = await jobOn(3, 'queued');
    const recent = await jobOn(25, 'done');
    clock.set('2026-01-31T00:00:00Z');

    const result = await applyRetention(store, { maxAgeDays: 7 });

    expect(result.removed.map((r) => [r.jobId, r.reason, r.bytes])).toEqual([
      [old.id, 'age', 200],
      [oldFailed.id, 'age', 200],
    ]);
    expect(result).toMatchObject({ framesBytesBefore: 1000, framesBytesAfter: 600, failed: [] });
    for (const id of [old.id, oldFailed.id]) {
      expect(framesExist(id)).toBe(false);
      expect(readdirSync(join(dataDir, 'jobs', id)).sort()).toEqual(['manifest.json', 'result.jpg']);
      const manifest = await store.get(id);
      expect(manifest.framesDeleted).toBe(true);
      expect(manifest.frames).toEqual([]); // the list is what was recorded; these frames were never added
    }
    for (const id of [oldRunning.id, oldQueued.id, recent.id]) {
      expect(framesExist(id)).toBe(true);
      expect((await store.get(id)).framesDeleted).toBeUndefined();
    }
  });

  it('keeps the frames of a finished job that a queued restack will read', async () => {
    const source = await jobOn(1, 'done');
    clock.set('2026-01-30T00:00:00Z');
    await store.create({ kind: 'restack', sourceJobId: source.id });
    expect((await applyRetention(store, { maxAgeDays: 7 })).removed).toEqual([]);
    expect(framesExist(source.id)).toBe(true);
  });
});

describe('applyRetention by size', () => {
  it('removes the oldest finished jobs first until the frames fit the budget (fake sizes)', async () => {
    const sizes: Record<string, number> = {};
    const jobs: Manifest[] = [];
    for (const [day, status, gb] of [
      [1, 'done', 4],
      [2, 'capturing', 1],
      [3, 'interrupted', 3],
      [4, 'done', 2],
      [5, 'cancelled', 1],
    ] as const) {
      const job = await jobOn(day, status);
      sizes[job.id] = gb * GB;
      jobs.push(job);
    }
    const framesBytes = async (_store: JobStore, id: string) => sizes[id];

    const result = await applyRetention(store, { maxFramesBytes: 5 * GB }, { framesBytes });

    // 11 GB → drop the 4 GB (oldest) → 7 GB → skip the capturing job, drop the 3 GB → 4 GB ≤ 5 GB.
    expect(result.removed.map((r) => [r.jobId, r.reason, r.bytes / GB])).toEqual([
      [jobs[0].id, 'size', 4],
      [jobs[2].id, 'size', 3],
    ]);
    expect(result.framesBytesBefore / GB).toBe(11);
    expect(result.framesBytesAfter / GB).toBe(4);
    expect(jobs.map((j) => framesExist(j.id))).toEqual([false, true, false, true, true]);
  });

  it('stops short of the budget rather than touch an active job, and measures real files', async () => {
    const running = await jobOn(1, 'stacking', [3000, 3000]);
    const done = await jobOn(2, 'done', [1000, 500]);
    expect(await measureFrames(store, done.id)).toBe(1500);
    const result = await applyRetention(store, { maxFramesBytes: 1000 });
    expect(result.removed.map((r) => r.jobId)).toEqual([done.id]);
    expect(result.framesBytesAfter).toBe(6000);
    expect(framesExist(running.id)).toBe(true);
  });

  it('combines age and size, and finishes a removal a crash cut short', async () => {
    const ancient = await jobOn(1, 'done', [500]);
    const older = await jobOn(20, 'done', [400]);
    const newer = await jobOn(28, 'done', [300]);
    // A crash after the manifest said framesDeleted but before the files went.
    const halfway = await jobOn(29, 'done', [50], { framesDeleted: true });
    clock.set('2026-01-31T00:00:00Z');

    const result = await applyRetention(store, { maxAgeDays: 14, maxFramesBytes: 350 });

    expect(result.removed.map((r) => [r.jobId, r.reason])).toEqual([
      [ancient.id, 'age'],
      [halfway.id, 'leftover'],
      [older.id, 'size'],
    ]);
    expect(result.framesBytesAfter).toBe(300);
    expect(framesExist(newer.id)).toBe(true);
    expect(framesExist(halfway.id)).toBe(false);
  });
});

describe('removeFrames and policy checks', () => {
  it('refuses an unfinished job and a bad policy', async () => {
    const running = await jobOn(1, 'capturing');
    await expect(removeFrames(store, running.id)).rejects.toMatchObject({ code: 'JOB_ACTIVE' });
    expect(framesExist(running.id)).toBe(true);
    for (const policy of [{ maxAgeDays: -1 }, { maxFramesBytes: Number.NaN }]) {
      await expect(applyRetention(store, policy)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
  });
});
