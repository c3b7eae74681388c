// The shape of a job folder's manifest.json (zod schema, types, status sets) and the rules for the
// names that may appear in it: job ids and file names, checked before any path is built from them.
import { z } from 'zod';

/**
 * Job ids: UTC creation time to the second, then 4 random hex digits (`20261128-031500-ab12`).
 * They sort by creation time and hold nothing but digits, lowercase hex and dashes, so an id
 * that passes this pattern is always a plain folder name: no '/', '\', '.', '%' or NUL.
 */
export const JOB_ID_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

/**
 * A file name inside a job folder or its frames/: one path segment starting with a letter or
 * digit (so never '.', '..' or a hidden temp file), at most 100 characters.
 */
export const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const JOB_STATUSES = [
  'queued',
  'capturing',
  'stacking',
  'done',
  'failed',
  'cancelled',
  'interrupted',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves: its folder no longer changes, except by retention. */
export const FINISHED: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled', 'interrupted']);
/** Statuses in which a job owns the rig or a stacker: its folder is being written. */
export const ACTIVE: ReadonlySet<JobStatus> = new Set(['capturing', 'stacking']);
/** Statuses that a daemon crash leaves behind unfinished: recovery turns them into 'interrupted'. */
export const UNFINISHED: ReadonlySet<JobStatus> = new Set(['queued', 'capturing', 'stacking']);

export const isFinished = (status: JobStatus): boolean => FINISHED.has(status);
export const isActive = (status: JobStatus): boolean => ACTIVE.has(status);

export const JOB_KINDS = ['capture', 'restack', 'upload'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const MANIFEST_VERSION = 1;

const jobId = z.string().regex(JOB_ID_PATTERN, 'a job id like 20261128-031500-ab12');
const fileName = z.string().regex(FILE_NAME_PATTERN, 'a plain file name (letters, digits, . _ -)');
const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

export const frameEntrySchema = z.object({
  /** Position in the stack, 0 = first frame. */
  index: count,
  /** Name of the file in the job's frames/ folder. */
  file: fileName,
  stageUm: z.number().optional(),
  capturedAt: isoTime.optional(),
  /** What the camera reported for this frame, e.g. { shutterUs, analogueGain }. */
  exposure: z.record(z.string(), z.number()).optional(),
  /** The aligner's estimate for this frame; its shape belongs to stack/align. */
  alignment: z.record(z.string(), z.unknown()).optional(),
});
export type FrameEntry = z.infer<typeof frameEntrySchema>;

export const resultsSchema = z.object({
  image: fileName.optional(),
  depth: fileName.optional(),
  depthPreview: fileName.optional(),
  confidence: fileName.optional(),
  mesh: fileName.optional(),
});
export type JobResults = z.infer<typeof resultsSchema>;

export const progressSchema = z.object({ captured: count, stacked: count, total: count });
export type JobProgress = z.infer<typeof progressSchema>;

export const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  id: jobId,
  label: z.string().max(200),
  kind: z.enum(JOB_KINDS),
  status: z.enum(JOB_STATUSES),
  createdAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  /** The request's stack parameters; validated by the jobs layer, stored as given. */
  params: z.record(z.string(), z.unknown()),
  progress: progressSchema,
  frames: z.array(frameEntrySchema),
  results: resultsSchema,
  /** Durations of the job's phases in ms (e.g. capture, align, merge, encode). */
  timings: z.record(z.string(), z.number()),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Why the job ended as it did when that is not an error (e.g. what recovery found). */
  note: z.string().optional(),
  /** For a restack: the job whose frames it stacks again. */
  sourceJobId: jobId.optional(),
  /**
   * For a restack or an upload, whose frames are not its own captures: the aligner's estimate per
   * stacked frame, in stack order (a capture keeps it on each frame entry), and which frame was the
   * reference.
   */
  alignment: z.array(z.record(z.string(), z.unknown())).optional(),
  referenceIndex: count.optional(),
  /**
   * For a capture aligned to a frame taken before the sweep, where it was taken (µm): where the stage
   * stood, or the sweep's middle plane. Its frames' alignment is relative to that frame, which is not kept.
   */
  referenceStageUm: z.number().optional(),
  /** Retention removed frames/; the frame list stays as a record of the capture. */
  framesDeleted: z.boolean().optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Parses manifest.json's text; returns the problem in words instead of throwing. */
export function parseManifest(
  text: string,
): { ok: true; manifest: Manifest } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  const result = manifestSchema.safeParse(json);
  if (result.success) return { ok: true, manifest: result.data };
  const first = result.error.issues[0];
  const where = first.path.length > 0 ? first.path.join('.') : '(root)';
  return { ok: false, problem: `${where}: ${first.message}` };
}

/** Quotes an untrusted name for a message: escaped, and cut short so a 10 kB id cannot flood a log. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}
