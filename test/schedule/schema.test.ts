import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  schedulePatchSchema,
  scheduleCreateSchema,
  schedulesConfigSchema,
  systemTimeZone,
} from '../../src/schedule/schema.js';
import { harness, type Harness } from './fakes.js';

const base = { name: 'egg', cron: '*/15 * * * *', stack: { start: 900, end: 1000, step: 10 } };

function problem(input: unknown): { path: string; message: string } | null {
  const result = scheduleCreateSchema.safeParse(input);
  if (result.success) return null;
  const issue = result.error.issues[0];
  return { path: issue.path.join('.'), message: issue.message };
}

describe('schedule schema', () => {
  it('fills the timelapse defaults: wait when busy, one catch-up, frames dropped after stacking', () => {
    const s = scheduleCreateSchema.parse(base);
    expect(s).toMatchObject({
      timezone: systemTimeZone(),
      paused: false,
      busyPolicy: 'wait',
      maxWaitMin: 30,
      catchUp: 'one',
      rehomeEveryRuns: 0,
      keepFrames: false,
      timelapse: { align: 'translation', widthPx: 960, frameDelayMs: 200, mp4: true },
    });
    expect(s.endAt).toBeUndefined();
    expect(s.maxRuns).toBeUndefined();
  });

  it('checks the cron expression with croner, in its time zone', () => {
    expect(problem({ ...base, cron: '61 * * * *' })).toMatchObject({ path: 'cron' });
    expect(problem({ ...base, cron: '61 * * * *' })?.message).toMatch(/not a 5-field cron expression/);
    // A sixth (seconds) field would ask for a stack every few seconds: refused.
    expect(problem({ ...base, cron: '*/5 * * * * *' })).toMatchObject({ path: 'cron' });
    expect(problem({ ...base, cron: '0 0 30 2 *' })).toEqual({
      path: 'cron',
      message: '"0 0 30 2 *" never matches a future time',
    });
    expect(problem({ ...base, timezone: 'Mars/Olympus_Mons' })).toEqual({
      path: 'timezone',
      message: '"Mars/Olympus_Mons" is not an IANA time zone (e.g. Europe/Berlin, UTC)',
    });
    expect(problem({ ...base, timezone: 'Europe/Berlin' })).toBeNull();
  });

  it('takes either stack form and refuses a keepFrames that contradicts the schedule', () => {
    expect(problem({ ...base, stack: { frames: 20, step: 5 } })).toBeNull();
    expect(problem({ ...base, stack: { frames: 1, step: 5 } })).toMatchObject({ path: 'stack.frames' });
    expect(problem({ ...base, stack: { ...base.stack, keepFrames: true } })).toMatchObject({
      path: 'stack.keepFrames',
    });
    expect(problem({ ...base, keepFrames: true, stack: { ...base.stack, keepFrames: true } })).toBeNull();
  });

  it('a PATCH fills in nothing it does not name, and null clears endAt', () => {
    expect(schedulePatchSchema.parse({ paused: true })).toEqual({ paused: true });
    expect(schedulePatchSchema.parse({ timelapse: { frameDelayMs: 100 } })).toEqual({
      timelapse: { frameDelayMs: 100 },
    });
    expect(schedulePatchSchema.parse({ endAt: null })).toEqual({ endAt: null });
    expect(schedulePatchSchema.safeParse({ id: 'other' }).success).toBe(false);
  });

  it('the configuration list needs unique ids', () => {
    const entry = { ...base, id: 'egg' };
    expect(schedulesConfigSchema.safeParse([entry]).success).toBe(true);
    const twice = schedulesConfigSchema.safeParse([entry, entry]);
    expect(twice.success).toBe(false);
    expect(twice.error?.issues[0]).toMatchObject({
      path: [1, 'id'],
      message: 'schedule id egg is declared twice',
    });
    expect(schedulesConfigSchema.safeParse([{ ...base }]).success).toBe(false);
  });
});

describe('schedules declared in the configuration file', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.cleanup());

  const declared = schedulesConfigSchema.parse([{ ...base, id: 'egg', timezone: 'UTC' }]);

  it('are created at start, persisted, and cannot be deleted over the API', async () => {
    const s = h.make({ declared });
    await s.start();
    expect(s.list().map((v) => [v.id, v.state.source, v.status])).toEqual([['egg', 'config', 'active']]);
    await expect(s.delete('egg')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await s.whenSettled();
    const file = JSON.parse(await readFile(join(h.dir, 'schedules', 'egg.json'), 'utf8'));
    expect(file).toMatchObject({ version: 1, schedule: { id: 'egg', cron: '*/15 * * * *' } });
  });

  it('keep a pause made over the API across restarts until their entry in the file changes', async () => {
    const first = h.make({ declared });
    await first.start();
    await first.update('egg', { paused: true });
    await first.stop();
    const second = h.make({ declared });
    await second.start();
    expect(second.get('egg').status).toBe('paused');
    await second.stop();
    const edited = schedulesConfigSchema.parse([{ ...base, id: 'egg', timezone: 'UTC', cron: '0 * * * *' }]);
    const third = h.make({ declared: edited });
    await third.start();
    expect(third.get('egg')).toMatchObject({ status: 'active', cron: '0 * * * *' });
    await third.stop();
    // Gone from the file: kept with its state, paused, and now deletable.
    const fourth = h.make({ declared: [] });
    await fourth.start();
    expect(fourth.get('egg')).toMatchObject({ status: 'paused' });
    expect(fourth.get('egg').state.source).toBe('api');
    await fourth.delete('egg');
    expect(() => fourth.get('egg')).toThrow(/no schedule with id "egg"/);
  });
});
