// When a schedule is due: its occurrences (croner, in its time zone, before its end time), what to do
// with those that piled up since the last one dealt with (one run at most, the rest one skip record),
// and the request each run submits (absolute planes, so every run starts where the first did).
import type { Cron } from 'croner';
import type { CaptureRequest } from '../jobs/requests.js';
import type { Schedule } from './schema.js';

/** A run starting within this of its time is on time; later, it was missed (daemon down, suspend). */
export const LATE_GRACE_MS = 2 * 60_000;
/** Missed occurrences are counted up to here (croner takes ~0.5 ms per step in a time zone). */
export const MAX_COUNTED = 1_000;

/** The first occurrence strictly after `after` and before endAt, or null. */
export function occurrenceAfter(cron: Cron, endAt: string | undefined, after: Date): Date | null {
  const next = cron.nextRun(after);
  return next && (endAt === undefined || next.getTime() < Date.parse(endAt)) ? next : null;
}

/** Up to n occurrences after `from`. */
export function upcoming(cron: Cron, endAt: string | undefined, from: Date, n: number): Date[] {
  const out: Date[] = [];
  for (let d = occurrenceAfter(cron, endAt, from); d && out.length < n; d = occurrenceAfter(cron, endAt, d))
    out.push(d);
  return out;
}

export interface DueDecision {
  /** The latest occurrence up to now: the schedule's new lastDueAt. */
  latest: Date;
  /** Run `latest` now (on time, or as the one catch-up). */
  run: boolean;
  catchUp: boolean;
  /** Occurrences not run, as one record. */
  skip?: { first: Date; last?: Date; count: number; reason: string };
}

/**
 * What to do with the occurrences in (lastDueAt, now]: null when none is due yet. The latest runs when
 * on time; when it is stale (the daemon was down, the machine slept) it runs only as the single
 * catch-up that catchUp 'one' allows. Everything else is skipped, never replayed in a burst.
 */
export function decideDue(o: {
  cron: Cron;
  endAt?: string;
  lastDueAt: Date;
  now: number;
  catchUp: 'none' | 'one';
  /** When the scheduler started: earlier occurrences were missed while the daemon was down. */
  startedAt: number;
}): DueDecision | null {
  const first = occurrenceAfter(o.cron, o.endAt, o.lastDueAt);
  if (!first || first.getTime() > o.now) return null;
  let latest = first;
  let beforeLatest: Date | undefined;
  let count = 1;
  for (let d = occurrenceAfter(o.cron, o.endAt, first); d && d.getTime() <= o.now;) {
    beforeLatest = latest;
    latest = d;
    if (++count >= MAX_COUNTED) {
      latest = o.cron.previousRuns(1, new Date(o.now + 1))[0] ?? d;
      break;
    }
    d = occurrenceAfter(o.cron, o.endAt, d);
  }
  const onTime = o.now - latest.getTime() <= LATE_GRACE_MS;
  const run = onTime || o.catchUp === 'one';
  const missed = run ? count - 1 : count;
  const decision: DueDecision = { latest, run, catchUp: run && !onTime };
  if (missed > 0) {
    const why =
      first.getTime() < o.startedAt
        ? 'missed while the daemon was not running'
        : 'missed: the timer woke late (system suspended or clock changed)';
    const more = count >= MAX_COUNTED ? ' (or more)' : '';
    const instead = decision.catchUp ? '; one catch-up run instead' : run ? '' : ' (catchUp: none)';
    const last = run ? beforeLatest : latest;
    decision.skip = {
      first,
      ...(missed > 1 && last ? { last } : {}),
      count: missed,
      reason: `${why}${more}${instead}`,
    };
  }
  return decision;
}

/**
 * The capture request of run `run`: the schedule's stack with its keepFrames and a label. A frames/step
 * stack becomes absolute start/end planes around `centreUm` (pinned at the first run by the caller).
 */
export function runRequest(schedule: Schedule, run: number, centreUm: () => number): CaptureRequest {
  const stack = schedule.stack;
  const keepFrames = schedule.keepFrames;
  const label = stack.label ?? `${schedule.name} #${run}`;
  if (!('frames' in stack)) return { ...stack, keepFrames, label };
  const { frames, step, ...rest } = stack;
  const centre = centreUm();
  const half = ((frames - 1) * step) / 2;
  return { ...rest, start: centre - half, end: centre + half, step, keepFrames, label };
}
