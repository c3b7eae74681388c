// Cron expressions for the schedule form: parse (5 fields, or 6 with seconds first, as croner reads
// them), say in words, and list the next runs in a time zone, before anything is sent to the daemon.

export interface Cron {
  seconds: number[];
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  /** 0 = Sunday … 6 = Saturday. */
  weekdays: number[];
  /** A restricted day-of-month and day-of-week match either (Vixie cron, croner's default). */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
  /**
   * One plain value in each of seconds, minutes and hours (`30 2 * * *`): croner's "fixed-time job"
   * for daylight saving. It runs once when the clocks go back and after the gap when they go forward;
   * other jobs run on both passes of a repeated hour and skip a gap.
   */
  fixedTime: boolean;
}

export class CronError extends Error {
  override name = 'CronError';
}

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function field(
  text: string,
  name: string,
  min: number,
  max: number,
  names: string[] = [],
  base = 0,
): number[] {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = names.indexOf(token.toLowerCase());
    const n = named >= 0 ? named + base : Number(token);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new CronError(
        `${name}: expected ${min}–${max}${names.length ? ' or a name' : ''}, got '${token}'`,
      );
    return n;
  };
  for (const part of text.split(',')) {
    if (/[LW#]/i.test(part) && !names.some((n) => part.toLowerCase().includes(n)))
      throw new CronError(`${name}: '${part}' (L, W, #) is not previewed here; the daemon still checks it`);
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new CronError(`${name}: step '${stepText}' must be 1 or more`);
    let from = min;
    let to = max;
    if (range !== '*' && range !== '?') {
      const [a, b] = range.split('-');
      from = value(a);
      to = b === undefined ? (stepText === undefined ? from : max) : value(b);
      if (to < from) throw new CronError(`${name}: range '${range}' runs backwards`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((x, y) => x - y);
}

/** `seconds: false` refuses a sixth (seconds) field, as the daemon's schedules do. */
export function parseCron(expression: string, { seconds = true }: { seconds?: boolean } = {}): Cron {
  const text = NICKNAMES[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && !(seconds && parts.length === 6))
    throw new CronError(
      seconds
        ? `expected 5 fields (minute hour day month weekday) or 6 (seconds first), got ${parts.length}`
        : `expected 5 fields (minute hour day month weekday), got ${parts.length}`,
    );
  const [s, mi, ho, d, mo, w] = parts.length === 6 ? parts : ['0', ...parts];
  const weekdays = field(w, 'weekday', 0, 7, DAY_NAMES).map((v) => v % 7);
  return {
    seconds: field(s, 'second', 0, 59),
    minutes: field(mi, 'minute', 0, 59),
    hours: field(ho, 'hour', 0, 23),
    days: field(d, 'day', 1, 31),
    months: field(mo, 'month', 1, 12, MONTH_NAMES, 1),
    weekdays: [...new Set(weekdays)].sort((x, y) => x - y),
    daysRestricted: d !== '*' && d !== '?',
    fixedTime: [s, mi, ho].every((f) => /^\d+$/.test(f)),
    weekdaysRestricted: w !== '*' && w !== '?',
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Wall-clock fields of an instant in a time zone. */
function wall(ms: number, timeZone: string): number[] {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second];
}

const DAY_MS = 86_400_000;

/** The zone's offset from UTC at an instant, ms. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wall(ms, timeZone);
  return Date.UTC(w[0], w[1] - 1, w[2], w[3], w[4], w[5]) - ms;
}

/**
 * The instants a wall-clock time has in a zone, as croner (11, README "DST handling") runs them:
 * a repeated time twice, or once for a fixed-time job; a time in a gap never, or for a fixed-time job
 * at the first instant after the gap.
 */
function instantsOf(fields: number[], timeZone: string, fixedTime: boolean): number[] {
  const [y, mo, d, h, mi, s] = fields;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const before = offsetAt(asUtc - DAY_MS, timeZone);
  const after = offsetAt(asUtc + DAY_MS, timeZone);
  const found = [...new Set([before, after])]
    .map((offset) => asUtc - offset)
    .filter((ms) => wall(ms, timeZone).every((v, i) => v === fields[i]))
    .sort((p, q) => p - q);
  if (found.length) return fixedTime ? found.slice(0, 1) : found;
  if (!fixedTime || before === after) return [];
  // In the gap: find where the offset changes (to the second) between the two readings.
  let lo = asUtc - Math.max(before, after);
  let hi = asUtc - Math.min(before, after);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return [hi];
}

function dayMatches(cron: Cron, y: number, mo: number, d: number): boolean {
  if (!cron.months.includes(mo)) return false;
  const dom = cron.days.includes(d);
  const dow = cron.weekdays.includes(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
  if (cron.daysRestricted && cron.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/** The next `count` run times after `from`, in `timeZone` (IANA name); looks ahead up to 5 years. */
export function nextRuns(cron: Cron, timeZone: string, from: Date, count = 5): Date[] {
  const runs: Date[] = [];
  const start = wall(from.getTime(), timeZone);
  let last = from.getTime();
  const day = new Date(Date.UTC(start[0], start[1] - 1, start[2]));
  for (let i = 0; i < 5 * 366; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    const [y, mo, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    if (!dayMatches(cron, y, mo, d)) continue;
    for (const h of cron.hours) {
      if (i === 0 && h < start[3]) continue;
      // An hour at a time, sorted: a repeated hour's two passes interleave in wall-clock order.
      const hour: number[] = [];
      for (const mi of cron.minutes) {
        if (i === 0 && h === start[3] && mi < start[4]) continue;
        for (const s of cron.seconds)
          hour.push(...instantsOf([y, mo, d, h, mi, s], timeZone, cron.fixedTime));
      }
      for (const ms of hour.sort((p, q) => p - q)) {
        // Gap times land on the gap's end, which may also be a time of its own: once only.
        if (ms <= last) continue;
        runs.push(new Date(ms));
        last = ms;
        if (runs.length >= count) return runs;
      }
    }
  }
  return runs;
}

/** "1–5, 7": a sorted list with runs folded. */
function list(values: number[], name: (v: number) => string = String): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    out.push(
      j - i >= 2
        ? `${name(values[i])}–${name(values[j])}`
        : values
            .slice(i, j + 1)
            .map(name)
            .join(', '),
    );
    i = j;
  }
  return out.join(', ');
}

/** Every `n`th value from `min` to `max`: the step of a '*∕n' field, else null. */
function everyNth(values: number[], min: number, max: number): number | null {
  if (values.length < 2 || values[0] !== min) return null;
  const step = values[1] - values[0];
  const regular = values.every((v, i) => v === min + i * step);
  return regular && values[values.length - 1] + step > max ? step : null;
}

const pad = (n: number) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The schedule in words, e.g. "every 10 minutes, every day" or "at 06:30, on Monday–Friday". */
export function describeCron(cron: Cron): string {
  const { seconds, minutes: m, hours: h } = cron;
  const allMinutes = m.length === 60;
  const allHours = h.length === 24;
  const minuteStep = everyNth(m, 0, 59);
  const hourStep = everyNth(h, 0, 23);
  let time: string;
  if (allMinutes && allHours) time = 'every minute';
  else if (minuteStep && allHours) time = `every ${minuteStep} minutes`;
  else if (minuteStep && h.length > 1 && h[h.length - 1] - h[0] === h.length - 1)
    time = `every ${minuteStep} minutes from ${pad(h[0])}:00 to ${pad(h[h.length - 1])}:${pad(m[m.length - 1])}`;
  else if (allHours) time = `at minute ${list(m)} of every hour`;
  else if (m.length * h.length <= 6)
    time = `at ${h.flatMap((hh) => m.map((mm) => `${pad(hh)}:${pad(mm)}`)).join(', ')}`;
  else if (hourStep && m.length === 1) time = `every ${hourStep} hours at minute ${m[0]}`;
  else time = `at minute ${list(m)} past hour ${list(h)}`;
  if (seconds.length !== 1 || seconds[0] !== 0)
    time = seconds.length === 60 ? `every second, ${time}` : `at second ${list(seconds)}, ${time}`;
  const weekdays = `on ${list(cron.weekdays, (v) => WEEKDAYS[v])}`;
  const days = `on day ${list(cron.days)} of the month`;
  let date =
    cron.daysRestricted && cron.weekdaysRestricted
      ? `${days} or ${weekdays}`
      : cron.daysRestricted
        ? days
        : cron.weekdaysRestricted
          ? weekdays
          : 'every day';
  if (cron.months.length < 12) date += `, in ${list(cron.months, (v) => MONTHS[v])}`;
  return `${time}, ${date}`;
}
