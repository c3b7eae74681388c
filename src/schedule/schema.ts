// The shape of a timelapse schedule (when it runs: cron in a time zone; what it stacks; the rules for a
// busy rig, missed runs and the end of a series) and of the state persisted beside it (runs, skips).
import { Cron } from 'croner';
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import { captureRequestSchema } from '../jobs/requests.js';

/** Schedule ids are folder and file names: lowercase letters, digits and dashes, nothing else. */
export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** How many skip records and recent runs the state keeps; the totals keep counting beyond. */
export const MAX_SKIP_RECORDS = 200;
export const MAX_RECENT_RUNS = 100;

const isoTime = z.iso.datetime({ offset: true });

/** The daemon's own time zone, the default for schedules that name none. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/**
 * The cron expression as croner reads it: five fields (minute to weekday), so a stack every second
 * cannot be asked for by a stray sixth field. Throws croner's error for a bad pattern or zone.
 */
export function compileCron(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, mode: '5-part', paused: true });
}

/** What is wrong with a cron expression in a zone (field and words); null when it is usable. */
export function cronProblem(
  cron: string,
  timezone: string,
  from = new Date(),
): { field: 'cron' | 'timezone'; message: string } | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return {
      field: 'timezone',
      message: `${JSON.stringify(timezone)} is not an IANA time zone (e.g. Europe/Berlin, UTC)`,
    };
  }
  try {
    if (!compileCron(cron, timezone).nextRun(from))
      return { field: 'cron', message: `${JSON.stringify(cron)} never matches a future time` };
  } catch (error) {
    return {
      field: 'cron',
      message: `${JSON.stringify(cron)} is not a 5-field cron expression (minute hour day month weekday): ${(error as Error).message}`,
    };
  }
  return null;
}

// Field types without defaults (a PATCH must not reset what it does not name), then with them.
const timelapseFields = {
  align: z
    .enum(['none', 'translation', 'similarity'])
    .describe('Registration of each run onto the first, so the film does not jitter'),
  widthPx: z.number().int().min(64).max(3840).describe('Animation width (height follows)'),
  frameDelayMs: z.number().int().min(20).max(10_000).describe('Time each run is shown'),
  maxFrames: z
    .number()
    .int()
    .min(2)
    .max(5000)
    .describe('Longer series are thinned evenly in the WebP (the MP4 has every run)'),
  quality: z.number().int().min(1).max(100).describe('WebP quality'),
  mp4: z.boolean().describe('Also make an MP4 when ffmpeg is on PATH'),
};

export const TIMELAPSE_DEFAULTS = {
  align: 'translation',
  widthPx: 960,
  frameDelayMs: 200,
  maxFrames: 600,
  quality: 80,
  mp4: true,
} as const;

export const timelapseSettingsSchema = z
  .object({
    align: timelapseFields.align.default(TIMELAPSE_DEFAULTS.align),
    widthPx: timelapseFields.widthPx.default(TIMELAPSE_DEFAULTS.widthPx),
    frameDelayMs: timelapseFields.frameDelayMs.default(TIMELAPSE_DEFAULTS.frameDelayMs),
    maxFrames: timelapseFields.maxFrames.default(TIMELAPSE_DEFAULTS.maxFrames),
    quality: timelapseFields.quality.default(TIMELAPSE_DEFAULTS.quality),
    mp4: timelapseFields.mp4.default(TIMELAPSE_DEFAULTS.mp4),
  })
  .strict();

const fieldTypes = {
  name: z.string().min(1).max(200),
  cron: z.string().min(1).max(200).describe('5 fields: minute hour day-of-month month day-of-week'),
  timezone: z.string().min(1).max(100).describe('IANA zone; default: the system time zone'),
  stack: captureRequestSchema.describe(
    'The stack of each run: absolute start/end planes keep a series registered; frames/step is pinned around where the stage is at the first run',
  ),
  paused: z.boolean(),
  busyPolicy: z
    .enum(['wait', 'skip'])
    .describe('A run due while the rig is busy waits for it (up to maxWaitMin) or is skipped'),
  maxWaitMin: z.number().int().min(1).max(1440),
  catchUp: z
    .enum(['none', 'one'])
    .describe('Runs missed while the daemon was down: none, or one run at start'),
  rehomeEveryRuns: z
    .number()
    .int()
    .min(0)
    .describe('Home the stage before every Nth run after the first (0: never; needs a limit switch)'),
  keepFrames: z.boolean().describe('Keep each run’s frames; false drops them once the run is stacked'),
  endAt: isoTime.describe('No run at or after this time'),
  maxRuns: z.number().int().min(1).describe('The series ends after this many runs'),
};

export const SCHEDULE_DEFAULTS = {
  paused: false,
  busyPolicy: 'wait',
  maxWaitMin: 30,
  catchUp: 'one',
  rehomeEveryRuns: 0,
  keepFrames: false,
} as const;

const definitionFields = {
  ...fieldTypes,
  timezone: fieldTypes.timezone.default(systemTimeZone),
  paused: fieldTypes.paused.default(SCHEDULE_DEFAULTS.paused),
  busyPolicy: fieldTypes.busyPolicy.default(SCHEDULE_DEFAULTS.busyPolicy),
  maxWaitMin: fieldTypes.maxWaitMin.default(SCHEDULE_DEFAULTS.maxWaitMin),
  catchUp: fieldTypes.catchUp.default(SCHEDULE_DEFAULTS.catchUp),
  rehomeEveryRuns: fieldTypes.rehomeEveryRuns.default(SCHEDULE_DEFAULTS.rehomeEveryRuns),
  keepFrames: fieldTypes.keepFrames.default(SCHEDULE_DEFAULTS.keepFrames),
  endAt: fieldTypes.endAt.optional(),
  maxRuns: fieldTypes.maxRuns.optional(),
  timelapse: timelapseSettingsSchema.default(() => timelapseSettingsSchema.parse({})),
};

const scheduleId = z.string().regex(SCHEDULE_ID_PATTERN, 'lowercase letters, digits and dashes (≤ 64)');

const scheduleObject = z.object({ id: scheduleId, ...definitionFields, createdAt: isoTime }).strict();

type Checkable = { cron?: string; timezone?: string; stack?: { keepFrames?: boolean }; keepFrames?: boolean };

/** Checks what zod's field types cannot: the cron expression in its zone, and one keepFrames. */
function checkDefinition(value: Checkable, ctx: z.RefinementCtx): void {
  if (value.cron !== undefined && value.timezone !== undefined) {
    const problem = cronProblem(value.cron, value.timezone);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.field] });
  }
  const inStack = value.stack?.keepFrames;
  if (inStack !== undefined && inStack !== value.keepFrames)
    ctx.addIssue({
      code: 'custom',
      path: ['stack', 'keepFrames'],
      message: `keepFrames belongs to the schedule (got ${inStack} in stack, ${value.keepFrames} on the schedule)`,
    });
}

/** A stored schedule: its definition, complete with defaults, id and creation time. */
export const scheduleSchema = scheduleObject.superRefine(checkDefinition);
export type Schedule = z.infer<typeof scheduleSchema>;
export type TimelapseSettings = z.infer<typeof timelapseSettingsSchema>;

/** POST /api/schedules: the id is optional (made from the name), createdAt is the server's. */
export const scheduleCreateSchema = scheduleObject
  .omit({ createdAt: true })
  .extend({ id: scheduleId.optional() })
  .superRefine(checkDefinition);
export type ScheduleCreate = z.input<typeof scheduleCreateSchema>;

/**
 * PATCH /api/schedules/:id: any definition field, nothing filled in by default; null clears endAt or
 * maxRuns; timelapse settings merge field by field. The merged result is checked as a whole.
 */
export const schedulePatchSchema = z
  .object({
    ...fieldTypes,
    endAt: fieldTypes.endAt.nullable(),
    maxRuns: fieldTypes.maxRuns.nullable(),
    timelapse: z.object(timelapseFields).partial().strict(),
  })
  .partial()
  .strict();
export type SchedulePatch = z.input<typeof schedulePatchSchema>;

/** A schedule declared in the configuration file: an id is required, so restarts find its state. */
export const declaredScheduleSchema = scheduleObject.omit({ createdAt: true }).superRefine(checkDefinition);
export type DeclaredSchedule = z.infer<typeof declaredScheduleSchema>;

/** The configuration's `schedules`: timelapses declared in the file, ids unique. */
export const schedulesConfigSchema = z.array(declaredScheduleSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((s, i) => {
    if (seen.has(s.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `schedule id ${s.id} is declared twice` });
    seen.add(s.id);
  });
});
export type SchedulesConfig = z.infer<typeof schedulesConfigSchema>;

/** Job statuses, plus `lost` (the job vanished) and `refused` (no job: the submission failed). */
export const RUN_STATUSES = [
  'queued',
  'capturing',
  'stacking',
  'done',
  'failed',
  'cancelled',
  'interrupted',
  'lost',
  'refused',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'done',
  'failed',
  'cancelled',
  'interrupted',
  'lost',
  'refused',
]);

export const runRecordSchema = z.object({
  /** Sequence number within the series, from 1: the job's tag `schedule.run`. */
  run: z.number().int().min(1),
  dueAt: isoTime,
  startedAt: isoTime,
  jobId: z.string().optional(),
  status: z.enum(RUN_STATUSES),
  error: z.string().optional(),
  /** The one run made at start for runs missed while the daemon was down. */
  catchUp: z.boolean().optional(),
  homed: z.boolean().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const skipRecordSchema = z.object({
  /** The first (or only) occurrence skipped; `count` occurrences up to `lastDueAt`. */
  dueAt: isoTime,
  lastDueAt: isoTime.optional(),
  count: z.number().int().min(1),
  /** When the skip was decided. */
  at: isoTime,
  reason: z.string(),
});
export type SkipRecord = z.infer<typeof skipRecordSchema>;

export const scheduleStateSchema = z.object({
  source: z.enum(['api', 'config']),
  /** The configuration entry as last applied (JSON): a changed entry overrides API edits. */
  declared: z.string().optional(),
  /** Runs started (jobs submitted or refused): `maxRuns` counts these. */
  runs: z.number().int().min(0),
  runsDone: z.number().int().min(0),
  runsFailed: z.number().int().min(0),
  /** The latest occurrence dealt with (run, skipped or passed over while paused). */
  lastDueAt: isoTime,
  lastRun: runRecordSchema.optional(),
  recentRuns: z.array(runRecordSchema),
  skipped: z.array(skipRecordSchema),
  skippedTotal: z.number().int().min(0),
  /** For a frames/step stack: the centre plane pinned at the first run, µm. */
  centreUm: z.number().optional(),
  finishedAt: isoTime.optional(),
  finishReason: z.string().optional(),
});
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

export const SCHEDULE_FILE_VERSION = 1;

/** <dataDir>/schedules/<id>.json */
export const scheduleFileSchema = z.object({
  version: z.literal(SCHEDULE_FILE_VERSION),
  schedule: scheduleSchema,
  state: scheduleStateSchema,
});
export type ScheduleRecord = Omit<z.infer<typeof scheduleFileSchema>, 'version'>;

export function initialState(source: 'api' | 'config', now: Date, declared?: string): ScheduleState {
  return {
    source,
    ...(declared === undefined ? {} : { declared }),
    runs: 0,
    runsDone: 0,
    runsFailed: 0,
    lastDueAt: now.toISOString(),
    recentRuns: [],
    skipped: [],
    skippedTotal: 0,
  };
}

/** Parses with a schema, turning the first issue into BAD_ARGUMENT naming the field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  throw new BadArgumentError(`${what}: ${where}: ${issue.message}`);
}
