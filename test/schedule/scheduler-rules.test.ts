import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StackscopeError } from '../../src/errors.js';
import type { ScheduleCreate } from '../../src/schedule/schema.js';
import { harness, type Harness } from './fakes.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let h: Harness;
beforeEach(async () => {
  h = await harness();
  vi.useFakeTimers({
    now: Date.parse('2026-05-01T00:10:00Z'),
    toFake: ['setTimeout', 'clearTimeout', 'Date'],
  });
});
afterEach(async () => {
  vi.useRealTimers();
  await h.cleanup();
});

const hourly: ScheduleCreate = {
  id: 'hourly',
  name: 'hourly',
  cron: '0 * * * *',
  timezone: 'UTC',
  stack: { start: 900, end: 1000, step: 10 },
};

const iso = (ms: number) => new Date(ms).toISOString();

describe('a run due while the rig is busy', () => {
  it('is skipped under busyPolicy skip, with the busy job named', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, busyPolicy: 'skip' });
    h.jobs.busy('20260501-003000-abcd');
    await vi.advanceTimersByTimeAsync(HOUR); // 01:00 due, rig busy
    h.jobs.free();
    await vi.advanceTimersByTimeAsync(HOUR); // 02:00 runs
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T02:00:00.000Z']);
    const { state } = s.get('hourly');
    expect(state.skipped).toHaveLength(1);
    expect(state.skipped[0]).toMatchObject({ dueAt: '2026-05-01T01:00:00.000Z', count: 1 });
    expect(state.skipped[0].reason).toBe('rig busy: job 20260501-003000-abcd is capturing');
    expect(h.events.some((e) => e.event === 'skipped' && e.id === 'hourly')).toBe(true);
  });

  it('waits for the rig under busyPolicy wait, and runs as soon as it is free', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, maxWaitMin: 30 });
    h.jobs.busy();
    await vi.advanceTimersByTimeAsync(50 * MIN); // 01:00 due
    expect(h.jobs.submitted).toHaveLength(0);
    expect(s.get('hourly').waitingSince).toBe('2026-05-01T01:00:00.000Z');
    await vi.advanceTimersByTimeAsync(12 * MIN);
    h.jobs.free(); // 01:12
    await vi.advanceTimersByTimeAsync(0);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T01:12:00.000Z']);
    await s.whenSettled();
    expect(s.get('hourly').state.lastRun).toMatchObject({ run: 1, dueAt: '2026-05-01T01:00:00.000Z' });
    expect(s.get('hourly').state.skippedTotal).toBe(0);
  });

  it('waits again when another job takes the rig first (queueing off), but does not retry a refusal', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, maxWaitMin: 30 });
    const submit = h.jobs.submitCapture.bind(h.jobs);
    let raced = false;
    h.jobs.submitCapture = async (request, tags) => {
      if (raced) return submit(request, tags);
      raced = true;
      h.jobs.busy('sneaky-job');
      throw new StackscopeError('RIG_BUSY', 'job sneaky-job is capturing and queueing is off (jobs.queue)');
    };
    await vi.advanceTimersByTimeAsync(50 * MIN); // 01:00: free, but sneaky-job gets there first
    expect(s.get('hourly').waitingSince).toBe('2026-05-01T01:00:00.000Z');
    await vi.advanceTimersByTimeAsync(3 * MIN);
    h.jobs.free();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.jobs.submitted.map((x) => [iso(x.at), x.tags.schedule?.run])).toEqual([
      ['2026-05-01T01:03:00.000Z', 1],
    ]);
    // RIG_BUSY with no job on the rig (the daemon stopping): a refused run, no loop of retries.
    h.jobs.refusals.push(new StackscopeError('RIG_BUSY', 'the daemon is stopping'));
    await vi.advanceTimersByTimeAsync(HOUR);
    await s.whenSettled();
    expect(s.get('hourly').state.lastRun).toMatchObject({
      run: 2,
      status: 'refused',
      error: 'RIG_BUSY: the daemon is stopping',
    });
    expect(h.jobs.submitted).toHaveLength(1);
  });

  it('gives up after maxWaitMin and records why', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, maxWaitMin: 5 });
    h.jobs.busy('long-job', 'stacking');
    await vi.advanceTimersByTimeAsync(50 * MIN + 5 * MIN); // 01:00 due, given up at 01:05
    expect(h.jobs.submitted).toHaveLength(0);
    const skip = s.get('hourly').state.skipped[0];
    expect(skip).toMatchObject({ dueAt: '2026-05-01T01:00:00.000Z', at: '2026-05-01T01:05:00.000Z' });
    expect(skip.reason).toBe('rig still busy after waiting 5 min: job long-job is stacking');
    expect(s.get('hourly').waitingSince).toBeUndefined();
  });

  it('lets a newer run take over the wait: no pile of runs once the rig is free', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, cron: '*/10 * * * *', maxWaitMin: 60 });
    h.jobs.busy();
    await vi.advanceTimersByTimeAsync(45 * MIN); // 00:20, 00:30, 00:40, 00:50 due while busy
    h.jobs.free(); // 00:55
    await vi.advanceTimersByTimeAsync(MIN);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T00:55:00.000Z']);
    expect(h.jobs.submitted[0].tags.schedule).toEqual({ id: 'hourly', run: 1 });
    const { state } = s.get('hourly');
    expect(state.lastRun?.dueAt).toBe('2026-05-01T00:50:00.000Z');
    expect(state.skipped.map((x) => x.dueAt)).toEqual([
      '2026-05-01T00:20:00.000Z',
      '2026-05-01T00:30:00.000Z',
      '2026-05-01T00:40:00.000Z',
    ]);
    expect(state.skipped[0].reason).toMatch(/^the rig stayed busy until the next run was due/);
  });
});

describe('restart in the middle of a series', () => {
  async function runFiveThenStop(catchUp: 'none' | 'one') {
    const first = h.make();
    await first.start();
    await first.create({ ...hourly, catchUp });
    await vi.advanceTimersByTimeAsync(5 * HOUR); // runs at 01:00 … 05:00
    expect(h.jobs.submitted).toHaveLength(5);
    for (const x of h.jobs.submitted.slice(0, 4)) h.jobStore.jobs.set(x.id, { status: 'done' });
    h.bus.emit({ type: 'job', id: 'job-1', status: 'done' });
    // Run 5 was capturing when the daemon died: recovery marks its job interrupted.
    h.jobStore.jobs.set('job-5', { status: 'interrupted', note: 'the daemon stopped during capture' });
    await first.stop();
    vi.setSystemTime(Date.parse('2026-05-01T15:20:00Z')); // down for ten hours
    h.jobs.submitted.length = 0;
    const second = h.make();
    await second.start();
    await vi.advanceTimersByTimeAsync(1000);
    return second;
  }

  it('makes one catch-up run, records the rest as skipped, then goes on as scheduled', async () => {
    const second = await runFiveThenStop('one');
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T15:20:00.000Z']);
    expect(h.jobs.submitted[0].tags.schedule).toEqual({ id: 'hourly', run: 6 });
    await second.whenSettled();
    const { state } = second.get('hourly');
    expect(state.lastRun).toMatchObject({ run: 6, dueAt: '2026-05-01T15:00:00.000Z', catchUp: true });
    expect(state.skipped).toEqual([
      expect.objectContaining({
        dueAt: '2026-05-01T06:00:00.000Z',
        lastDueAt: '2026-05-01T14:00:00.000Z',
        count: 9,
        reason: 'missed while the daemon was not running; one catch-up run instead',
      }),
    ]);
    // The job open at the crash learned its end; earlier runs stay done.
    const run5 = state.recentRuns.find((r) => r.run === 5);
    expect(run5).toMatchObject({ status: 'interrupted', error: 'the daemon stopped during capture' });
    expect(state.recentRuns.find((r) => r.run === 1)?.status).toBe('done');
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual([
      '2026-05-01T15:20:00.000Z',
      '2026-05-01T16:00:00.000Z',
      '2026-05-01T17:00:00.000Z',
    ]);
  });

  it('with catchUp none, makes no run until the next one is due', async () => {
    const second = await runFiveThenStop('none');
    expect(h.jobs.submitted).toHaveLength(0);
    const { state } = second.get('hourly');
    expect(state.skipped[0]).toMatchObject({ count: 10, lastDueAt: '2026-05-01T15:00:00.000Z' });
    expect(state.skipped[0].reason).toBe('missed while the daemon was not running (catchUp: none)');
    expect(second.get('hourly').nextRuns[0]).toBe('2026-05-01T16:00:00.000Z');
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T16:00:00.000Z']);
  });
});

describe('failures, the end of a series, homing, and the start position', () => {
  it('goes on after a failed job and after a refused submission', async () => {
    const s = h.make();
    await s.start();
    await s.create(hourly);
    await vi.advanceTimersByTimeAsync(HOUR); // run 1
    h.jobStore.jobs.set('job-1', { status: 'failed', error: { code: 'CAMERA_FAILED', message: 'no frame' } });
    h.bus.emit({ type: 'job', id: 'job-1', status: 'failed' });
    h.jobs.refusals.push(new StackscopeError('STAGE_LIMIT', 'the stack spans 900–1000 µm, beyond 0–950 µm'));
    await vi.advanceTimersByTimeAsync(2 * HOUR); // run 2 refused, run 3 submitted
    await s.whenSettled();
    const { state, status } = s.get('hourly');
    expect(status).toBe('active');
    expect(state.recentRuns.map((r) => [r.run, r.status])).toEqual([
      [1, 'failed'],
      [2, 'refused'],
      [3, 'queued'],
    ]);
    expect(state.recentRuns[0].error).toBe('CAMERA_FAILED: no frame');
    expect(state.recentRuns[1].error).toMatch(/^STAGE_LIMIT: the stack spans/);
    expect(state.runsFailed).toBe(2);
    expect(h.jobs.submitted.map((x) => x.tags.schedule?.run)).toEqual([1, 3]);
  });

  it('ends after maxRuns', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, maxRuns: 3 });
    expect(s.get('hourly').nextRuns).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(10 * HOUR);
    expect(h.jobs.submitted).toHaveLength(3);
    const view = s.get('hourly');
    expect(view.status).toBe('finished');
    expect(view.state.finishReason).toBe('maxRuns reached (3 of 3)');
    expect(view.nextRuns).toEqual([]);
  });

  it('ends at endAt: no run at or after it', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, endAt: '2026-05-01T05:00:00Z' });
    await vi.advanceTimersByTimeAsync(10 * HOUR);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual([
      '2026-05-01T01:00:00.000Z',
      '2026-05-01T02:00:00.000Z',
      '2026-05-01T03:00:00.000Z',
      '2026-05-01T04:00:00.000Z',
    ]);
    expect(s.get('hourly').status).toBe('finished');
    // Extending the end time starts the series again.
    await s.update('hourly', { endAt: '2026-05-01T13:00:00Z' });
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(h.jobs.submitted).toHaveLength(6);
  });

  it('re-homes before every Nth run when a limit switch is wired, never without one', async () => {
    const withSwitch = h.make({ canHome: true });
    await withSwitch.start();
    await withSwitch.create({ ...hourly, rehomeEveryRuns: 2 });
    const homedBefore: number[] = [];
    for (let run = 1; run <= 5; run++) {
      const before = h.stage.homings;
      await vi.advanceTimersByTimeAsync(HOUR);
      if (h.stage.homings > before) homedBefore.push(run);
    }
    expect(homedBefore).toEqual([3, 5]);
    await withSwitch.whenSettled();
    expect(
      withSwitch
        .get('hourly')
        .state.recentRuns.filter((r) => r.homed)
        .map((r) => r.run),
    ).toEqual([3, 5]);
    await withSwitch.stop();
    h.stage.homings = 0;
    const without = h.make({ canHome: false });
    await without.start();
    await vi.advanceTimersByTimeAsync(5 * HOUR);
    expect(h.jobs.submitted.length).toBeGreaterThan(5);
    expect(h.stage.homings).toBe(0);
  });

  it('pins a frames/step stack around where the stage was at the first run', async () => {
    const s = h.make();
    await s.start();
    await s.create({ ...hourly, stack: { frames: 5, step: 10 } });
    h.stage.um = 1000;
    await vi.advanceTimersByTimeAsync(HOUR);
    h.stage.um = 1234; // someone focused elsewhere between runs
    await vi.advanceTimersByTimeAsync(HOUR);
    const planes = h.jobs.submitted.map((x) => x.request);
    for (const request of planes)
      expect(request).toMatchObject({ start: 980, end: 1020, step: 10, keepFrames: false });
    expect(planes[1]).not.toHaveProperty('frames');
    expect(planes.map((p) => p.label)).toEqual(['hourly #1', 'hourly #2']);
  });

  it('pauses: no runs, nothing counted as missed; resumes from now', async () => {
    const s = h.make();
    await s.start();
    await s.create(hourly);
    await s.update('hourly', { paused: true });
    expect(s.get('hourly')).toMatchObject({ status: 'paused', nextRuns: [] });
    await vi.advanceTimersByTimeAsync(5 * HOUR);
    expect(h.jobs.submitted).toHaveLength(0);
    await s.update('hourly', { paused: false });
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(h.jobs.submitted.map((x) => iso(x.at))).toEqual(['2026-05-01T06:00:00.000Z']);
    expect(s.get('hourly').state.skippedTotal).toBe(0);
  });
});

describe('the film', () => {
  it('gets each done run once; after a restart, done runs missing from it are added', async () => {
    const added: { id: string; run: number; jobId: string }[] = [];
    const inFilm = new Set<number>();
    const timelapse = {
      async addRun(id: string, _settings: unknown, run: { run: number; jobId: string }) {
        added.push({ id, run: run.run, jobId: run.jobId });
        if (run.run === 2) throw new Error('disk trouble');
        inFilm.add(run.run);
        return { added: true, frames: inFilm.size, mp4: false };
      },
      async series() {
        return {
          version: 1 as const,
          width: 1,
          height: 1,
          entries: [...inFilm].map((run) => ({ run })),
        } as never;
      },
      async settled() {},
    };
    const first = h.make({ timelapse });
    await first.start();
    await first.create(hourly);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    for (const id of ['job-1', 'job-2']) {
      h.jobStore.jobs.set(id, { status: 'done' });
      h.bus.emit({ type: 'job', id, status: 'done' });
    }
    await first.whenSettled();
    expect(added.map((a) => a.run)).toEqual([1, 2]);
    expect(h.events.filter((e) => e.event === 'timelapse').map((e) => e.run)).toEqual([1]);
    // A film that could not take run 2 does not stop the series.
    expect(first.get('hourly').state.runsDone).toBe(2);
    await first.stop();
    const second = h.make({ timelapse });
    await second.start();
    await second.whenSettled();
    expect(added.map((a) => a.run)).toEqual([1, 2, 2]);
    expect(added[2]).toEqual({ id: 'hourly', run: 2, jobId: 'job-2' });
  });
});
