import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { harness, localTime, type Harness } from './fakes.js';

const BERLIN = 'Europe/Berlin';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  vi.useRealTimers();
  await h.cleanup();
});

function startAt(iso: string): void {
  vi.useFakeTimers({ now: Date.parse(iso), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

const stack = { start: 900, end: 1000, step: 10 };

describe('runs at local times across daylight-saving changes (Europe/Berlin)', () => {
  it('a daily 02:30 runs once a day: at 03:00 when 02:30 does not exist, once when it happens twice', async () => {
    startAt('2026-03-26T12:00:00Z');
    const scheduler = h.make();
    await scheduler.start();
    await scheduler.create({ id: 'daily', name: 'daily', cron: '30 2 * * *', timezone: BERLIN, stack });
    await vi.advanceTimersByTimeAsync(5 * DAY);
    const spring = h.jobs.submitted.map((s) => localTime(s.at, BERLIN));
    expect(spring).toEqual([
      '2026-03-27 02:30',
      '2026-03-28 02:30',
      '2026-03-29 03:00', // 02:00–03:00 does not exist that night
      '2026-03-30 02:30',
      '2026-03-31 02:30',
    ]);
    // Winter time before, summer time after: the UTC instants move by an hour.
    expect(new Date(h.jobs.submitted[1].at).toISOString()).toBe('2026-03-28T01:30:00.000Z');
    expect(new Date(h.jobs.submitted[3].at).toISOString()).toBe('2026-03-30T00:30:00.000Z');

    vi.setSystemTime(Date.parse('2026-10-23T12:00:00Z'));
    // Far ahead of lastDueAt: a pause and resume says the gap is not "missed".
    await scheduler.update('daily', { paused: true });
    await scheduler.update('daily', { paused: false });
    h.jobs.submitted.length = 0;
    await vi.advanceTimersByTimeAsync(4 * DAY);
    const autumn = h.jobs.submitted.map((s) => localTime(s.at, BERLIN));
    expect(autumn).toEqual(['2026-10-24 02:30', '2026-10-25 02:30', '2026-10-26 02:30', '2026-10-27 02:30']);
    // 02:30 happens twice on 25 October; the run is at the first, summer-time one (00:30 UTC).
    expect(new Date(h.jobs.submitted[1].at).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    await scheduler.whenSettled();
    expect(scheduler.get('daily').state.skippedTotal).toBe(0);
  });

  it('every 30 min over four days: 46 runs on the short day, 50 on the long one, always 30 min apart', async () => {
    startAt('2026-03-27T22:59:00Z'); // 27 March 23:59 CET
    const scheduler = h.make();
    await scheduler.start();
    await scheduler.create({ id: 'often', name: 'often', cron: '*/30 * * * *', timezone: BERLIN, stack });
    await vi.advanceTimersByTimeAsync(3 * DAY - HOUR + 60_000); // to 31 March 00:00 CEST
    const at = h.jobs.submitted.map((s) => s.at);
    const local = at.map((t) => localTime(t, BERLIN));
    const perDay = (day: string) => local.filter((l) => l.startsWith(day)).length;
    expect([perDay('2026-03-28'), perDay('2026-03-29'), perDay('2026-03-30')]).toEqual([48, 46, 48]);
    expect(local).not.toContain('2026-03-29 02:00');
    expect(local).not.toContain('2026-03-29 02:30');
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBe(30 * 60_000);
    // Every run is a job tagged with the schedule and its sequence number.
    expect(h.jobs.submitted.map((s) => s.tags.schedule?.run)).toEqual(at.map((_, i) => i + 1));
    expect(new Set(h.jobs.submitted.map((s) => s.tags.schedule?.id))).toEqual(new Set(['often']));

    vi.setSystemTime(Date.parse('2026-10-24T21:59:00Z')); // 24 October 23:59 CEST
    await scheduler.update('often', { paused: true });
    await scheduler.update('often', { paused: false });
    h.jobs.submitted.length = 0;
    await vi.advanceTimersByTimeAsync(DAY + HOUR + 60_000); // to 26 October 00:00 CET
    const autumn = h.jobs.submitted.map((s) => localTime(s.at, BERLIN));
    expect(autumn.filter((l) => l.startsWith('2026-10-25'))).toHaveLength(50);
    // The repeated hour runs twice: 02:00 and 02:30 summer time, then again in winter time.
    expect(autumn.filter((l) => l === '2026-10-25 02:00' || l === '2026-10-25 02:30')).toHaveLength(4);
    const autumnAt = h.jobs.submitted.map((s) => s.at);
    for (let i = 1; i < autumnAt.length; i++) expect(autumnAt[i] - autumnAt[i - 1]).toBe(30 * 60_000);
  });

  it('shows the next run times in the API view, in UTC, following the zone', async () => {
    startAt('2026-03-28T12:00:00Z');
    const scheduler = h.make();
    await scheduler.start();
    const view = await scheduler.create({
      name: 'Mould, day 1',
      cron: '30 2 * * *',
      timezone: BERLIN,
      stack,
    });
    expect(view.id).toMatch(/^mould-day-1-[0-9a-f]{4}$/);
    expect(view.status).toBe('active');
    expect(view.nextRuns.slice(0, 3)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });
});
