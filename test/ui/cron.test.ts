// The schedule form's cron preview (src/ui/cron.ts) against croner, which the daemon schedules with:
// the same next runs, across time zones and both daylight-saving changes; the words; the errors.
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { CronError, describeCron, nextRuns, parseCron } from '../../src/ui/cron.js';

const CASES: [expression: string, timeZone: string, from: string][] = [
  ['*/10 * * * *', 'UTC', '2026-05-05T10:03:17Z'],
  ['0 9 * * 1-5', 'America/New_York', '2026-03-06T12:00:00Z'],
  ['0 0 1,15 * 3', 'UTC', '2026-01-01T00:00:00Z'],
  ['*/7 * * * *', 'Asia/Kolkata', '2026-05-05T10:03:00Z'],
  ['0 30 */6 * * *', 'Australia/Lord_Howe', '2026-04-04T10:00:00Z'],
  ['@weekly', 'UTC', '2026-01-01T00:00:00Z'],
  ['0 12 * jan,jul sun', 'Europe/London', '2026-01-01T00:00:00Z'],
  ['0 0 31 * *', 'UTC', '2026-01-01T00:00:00Z'],
  ['15 10 * * 7', 'Pacific/Auckland', '2026-09-20T00:00:00Z'],
  // Europe/Berlin: clocks forward 2026-03-29 02:00, back 2026-10-25 03:00.
  ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z'],
  ['30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z'],
  ['*/20 1-3 * * *', 'Europe/Berlin', '2026-10-24T23:00:00Z'],
  ['*/20 1-3 * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z'],
  ['0 * * * *', 'Europe/Berlin', '2026-10-24T23:50:00Z'],
  ['0 2 * * *', 'Europe/Berlin', '2026-03-28T23:50:00Z'],
];

describe('the cron preview', () => {
  it.each(CASES)('%s in %s from %s: the next runs croner gives', (expression, timeZone, from) => {
    const preview = nextRuns(parseCron(expression), timeZone, new Date(from), 8).map((d) => d.toISOString());
    const croner = new Cron(expression, { timezone: timeZone })
      .nextRuns(8, new Date(from))
      .map((d) => d.toISOString());
    expect(preview).toEqual(croner);
  });

  it('says the schedule in words', () => {
    const words = (e: string) => describeCron(parseCron(e));
    expect(words('* * * * *')).toBe('every minute, every day');
    expect(words('*/30 * * * *')).toBe('every 30 minutes, every day');
    expect(words('30 6 * * 1-5')).toBe('at 06:30, on Monday–Friday');
    expect(words('0 9,17 1 * *')).toBe('at 09:00, 17:00, on day 1 of the month');
    expect(words('*/15 8-18 * * *')).toBe('every 15 minutes from 08:00 to 18:45, every day');
    expect(words('0 */2 * * *')).toBe('every 2 hours at minute 0, every day');
    expect(words('0 0 12 * * sat,sun')).toBe('at 12:00, on Sunday, Saturday');
    expect(words('@monthly')).toBe('at 00:00, on day 1 of the month');
    expect(words('0 3 * jun-aug *')).toBe('at 03:00, every day, in Jun–Aug');
  });

  it('names the field and the value it cannot read', () => {
    expect(() => parseCron('* * *')).toThrow(/expected 5 fields .* got 3/);
    expect(() => parseCron('61 * * * *')).toThrow(new CronError("minute: expected 0–59, got '61'"));
    expect(() => parseCron('* 5-2 * * *')).toThrow(/hour: range '5-2' runs backwards/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/minute: step '0' must be 1 or more/);
    expect(() => parseCron('0 0 L * *')).toThrow(/day: 'L' .* not previewed here/);
    // The schedule form takes what the daemon takes: five fields, no seconds.
    expect(() => parseCron('0 */30 * * * *', { seconds: false })).toThrow(
      'expected 5 fields (minute hour day month weekday), got 6',
    );
  });
});
