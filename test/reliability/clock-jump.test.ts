// The wall clock jumping (a Pi without a real-time clock corrected by NTP, a user setting the date):
// faketime is not available here, so the daemon's own Date is shifted (vitest fakes Date only; timers,
// performance.now and the rig keep real time). Jobs still finish, ids stay unique and no job is
// overwritten; timelapse schedules neither burst after a jump forward nor repeat runs after one back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleCreate } from '../../src/schedule/schema.js';
import { JobStore } from '../../src/store/job-store.js';
import { recoverJobs } from '../../src/store/recovery.js';
import { framesAtLeast, startTestApp, submitStack, waitForJob, type TestApp } from '../helpers/daemon.js';
import { harness, type Harness } from '../schedule/fakes.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

describe('jobs and the job store across wall-clock jumps', () => {
  let t: TestApp;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.parse('2026-11-28T12:00:00Z') });
    // 100 ms per frame, so the clock can be moved while a stack runs.
    t = await startTestApp({ config: { rig: { simulated: { exposureMs: 10_000, timeScale: 100 } } } });
  });
  afterEach(async () => {
    await t?.close();
    vi.useRealTimers();
  });

  it('finishes a stack whose clock went back two hours mid-capture, then one after a jump ahead', async () => {
    const a = await submitStack(t, { frames: 8, step: 5 });
    await framesAtLeast(t, a.body.id, 2);
    vi.setSystemTime(Date.now() - 2 * HOUR);
    const jobA = await waitForJob(t, a.body.id, ['done', 'failed']);
    expect(jobA.status).toBe('done');
    expect(jobA.frames).toHaveLength(8);
    // The manifest tells the truth about the clock: finished "before" it started, still a valid record.
    expect(Date.parse(jobA.finishedAt!)).toBeLessThan(Date.parse(jobA.startedAt!));
    expect(jobA.timings.totalMs).toBeGreaterThan(0);

    // A job made after the jump back sorts as older (ids carry the wall clock), but is its own job.
    const b = await submitStack(t, { frames: 2, step: 5 });
    expect(b.body.id < a.body.id).toBe(true);
    expect((await waitForJob(t, b.body.id, ['done', 'failed'])).status).toBe('done');

    vi.setSystemTime(Date.now() + 3 * 24 * HOUR);
    const c = await submitStack(t, { frames: 2, step: 5 });
    expect((await waitForJob(t, c.body.id, ['done', 'failed'])).status).toBe('done');

    const listed = (await t.store.list()).jobs.map((j) => j.id);
    expect(listed).toEqual([c.body.id, a.body.id, b.body.id]);
    const recovered = await recoverJobs(t.store);
    expect(recovered).toMatchObject({ interrupted: [], skipped: [] });
  });

  it('never overwrites a job when the clock is set back onto its very second (a restart draws the same id)', async () => {
    const a = await submitStack(t, { frames: 2, step: 5 });
    const jobA = await waitForJob(t, a.body.id, ['done', 'failed']);
    // A fresh store (a restarted daemon) whose clock reads A's second and whose random draw gives A's
    // suffix: the first id it tries is A's own.
    const suffix = parseInt(a.body.id.slice(-4), 16);
    const random = vi.spyOn(Math, 'random').mockReturnValue((suffix + 0.5) / 0x8000);
    try {
      const restarted = await JobStore.open({ dataDir: t.dataDir, now: () => new Date(jobA.createdAt) });
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++)
        ids.add((await restarted.create({ kind: 'capture', label: `after ${i}` })).id);
      expect(ids.size).toBe(5);
      expect(ids.has(a.body.id)).toBe(false);
    } finally {
      random.mockRestore();
    }
    expect(await t.store.get(a.body.id)).toEqual(jobA);
  });
});

describe('timelapse schedules across wall-clock jumps', () => {
  let h: Harness;
  const hourly: ScheduleCreate = {
    id: 'hourly',
    name: 'hourly',
    cron: '0 * * * *',
    timezone: 'UTC',
    stack: { start: 900, end: 1000, step: 10 },
  };
  beforeEach(async () => {
    h = await harness();
    // Fake timers keep their remaining delay when the system time is set: like a real wall-clock jump.
    vi.useFakeTimers({
      now: Date.parse('2026-05-01T00:10:00Z'),
      toFake: ['setTimeout', 'clearTimeout', 'Date'],
    });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await h.cleanup();
  });

  it('after a jump five hours ahead: one catch-up run, the missed ones recorded, then on schedule', async () => {
    const scheduler = h.make();
    await scheduler.start();
    await scheduler.create(hourly);
    vi.setSystemTime(Date.parse('2026-05-01T05:30:00Z'));
    await vi.advanceTimersByTimeAsync(50 * MIN);
    expect(h.jobs.submitted.map((s) => iso(s.at))).toEqual(['2026-05-01T06:20:00.000Z']);
    const { state } = scheduler.get('hourly');
    expect(state.skipped).toEqual([
      expect.objectContaining({
        dueAt: '2026-05-01T01:00:00.000Z',
        count: 5,
        reason: expect.stringContaining('clock changed'),
      }),
    ]);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(h.jobs.submitted.map((s) => iso(s.at))).toEqual([
      '2026-05-01T06:20:00.000Z',
      '2026-05-01T07:00:00.000Z',
      '2026-05-01T08:00:00.000Z',
    ]);
  });

  it('after a jump three hours back: no run repeated, the next one when its time comes again', async () => {
    const scheduler = h.make();
    await scheduler.start();
    await scheduler.create(hourly);
    await vi.advanceTimersByTimeAsync(55 * MIN);
    expect(h.jobs.submitted.map((s) => iso(s.at))).toEqual(['2026-05-01T01:00:00.000Z']);
    vi.setSystemTime(Date.parse('2026-04-30T22:05:00Z'));
    // Wall time passes 23:00, 00:00 and 01:00 again: those runs were made (or were before the first).
    await vi.advanceTimersByTimeAsync(3 * HOUR + 50 * MIN);
    expect(h.jobs.submitted).toHaveLength(1);
    expect(scheduler.get('hourly').nextRuns[0]).toBe('2026-05-01T02:00:00.000Z');
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(h.jobs.submitted.map((s) => iso(s.at))).toEqual([
      '2026-05-01T01:00:00.000Z',
      '2026-05-01T02:00:00.000Z',
    ]);
    expect(h.jobs.submitted.map((s) => s.tags.schedule?.run)).toEqual([1, 2]);
  });
});
