// Frees disk by deleting the frames of finished jobs: those older than a number of days, then the
// oldest until all frames fit a size budget. Results and manifests stay; active jobs are never touched.
import { join } from 'node:path';
import { BadArgumentError } from '../errors.js';
import { JobActiveError, type JobStore } from './job-store.js';
import { isFinished, type Manifest } from './manifest.js';
import { isMissing, randomHex, writeError } from './store-fs.js';

export interface RetentionPolicy {
  /** Delete the frames of jobs that finished more than this many days ago (absent: no age limit). */
  maxAgeDays?: number;
  /** Then delete the frames of the oldest finished jobs until all frames take at most this (absent: no budget). */
  maxFramesBytes?: number;
}

export interface RetentionOptions {
  /** Clock for the age limit (default: the store's). */
  now?: () => Date;
  /** Bytes held by a job's frames/ (default: the sizes of its files, broken/ included). */
  framesBytes?: (store: JobStore, id: string) => Promise<number>;
}

export interface RetentionResult {
  removed: { jobId: string; bytes: number; reason: 'age' | 'size' | 'leftover' }[];
  framesBytesBefore: number;
  framesBytesAfter: number;
  /** Jobs whose frames were due but could not be removed, and why. */
  failed: { jobId: string; problem: string }[];
}

const DAY_MS = 86_400_000;
const PAGE = 500;

export async function applyRetention(
  store: JobStore,
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): Promise<RetentionResult> {
  checkPolicy(policy);
  const now = (options.now ?? store.now)().getTime();
  const sizeOf = options.framesBytes ?? measureFrames;
  const jobs = await listAll(store);
  // A queued or running restack reads its source's frames: those stay whatever their age.
  const inUse = new Set(jobs.filter((j) => !isFinished(j.status) && j.sourceJobId).map((j) => j.sourceJobId));
  const sizes = new Map<string, number>();
  for (const job of jobs) sizes.set(job.id, await sizeOf(store, job.id));
  const total = () => [...sizes.values()].reduce((a, b) => a + b, 0);
  const result: RetentionResult = {
    removed: [],
    framesBytesBefore: total(),
    framesBytesAfter: 0,
    failed: [],
  };

  // Oldest first (ids sort by creation time), so the size budget takes the oldest frames.
  const candidates = jobs
    .filter((j) => isFinished(j.status) && !inUse.has(j.id) && sizes.get(j.id)! > 0)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const remove = async (job: Manifest, reason: RetentionResult['removed'][number]['reason']) => {
    try {
      await removeFrames(store, job.id);
      result.removed.push({ jobId: job.id, bytes: sizes.get(job.id)!, reason });
      sizes.set(job.id, 0);
    } catch (error) {
      result.failed.push({ jobId: job.id, problem: (error as Error).message });
    }
  };

  for (const job of candidates) {
    const endedAt = Date.parse(job.finishedAt ?? job.createdAt);
    if (job.framesDeleted) await remove(job, 'leftover');
    else if (policy.maxAgeDays !== undefined && now - endedAt > policy.maxAgeDays * DAY_MS)
      await remove(job, 'age');
  }
  if (policy.maxFramesBytes !== undefined) {
    for (const job of candidates) {
      if (total() <= policy.maxFramesBytes) break;
      if (sizes.get(job.id)! > 0) await remove(job, 'size');
    }
  }
  result.framesBytesAfter = total();
  if (result.removed.length > 0 || result.failed.length > 0) {
    store.logger?.info(
      {
        removed: result.removed.length,
        freedBytes: result.framesBytesBefore - result.framesBytesAfter,
        failed: result.failed,
      },
      'retention removed frames of finished jobs',
    );
  }
  return result;
}

/**
 * Deletes frames/ of a finished job, marking the manifest framesDeleted first: a crash in between
 * leaves a job that says so, and the next pass removes its leftover frames. `ownJob`: the running job
 * itself drops its frames once its results are written (keepFrames: false), while still 'stacking'.
 */
export async function removeFrames(
  store: JobStore,
  id: string,
  options: { ownJob?: boolean } = {},
): Promise<void> {
  await store.update(id, (draft) => {
    if (!isFinished(draft.status) && !options.ownJob)
      throw new JobActiveError(id, draft.status, 'remove the frames of');
    draft.framesDeleted = true;
  });
  const frames = store.framesDir(id);
  // Renamed away first, so frames/ is gone at once and a half-finished removal is a temp folder.
  const doomed = `${frames}.tmp-${randomHex(4)}`;
  try {
    await store.fs.rename(frames, doomed);
  } catch (error) {
    if (isMissing(error)) return;
    throw writeError(frames, error);
  }
  await store.fs.rm(doomed, { recursive: true, force: true });
}

function checkPolicy(policy: RetentionPolicy): void {
  for (const key of ['maxAgeDays', 'maxFramesBytes'] as const) {
    const value = policy[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new BadArgumentError(`retention ${key} must be a number ≥ 0, got ${value}`);
    }
  }
}

async function listAll(store: JobStore): Promise<Manifest[]> {
  const jobs: Manifest[] = [];
  let before: string | undefined;
  do {
    const page = await store.list({ limit: PAGE, before });
    jobs.push(...page.jobs);
    before = page.next;
  } while (before !== undefined);
  return jobs;
}

/** Sum of the file sizes under a job's frames/ (0 when there is none). */
export async function measureFrames(store: JobStore, id: string): Promise<number> {
  const walk = async (dir: string): Promise<number> => {
    let entries;
    try {
      entries = await store.fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    let bytes = 0;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) bytes += await walk(path);
      else if (entry.isFile()) bytes += (await store.fs.stat(path)).size;
    }
    return bytes;
  };
  return walk(store.framesDir(id));
}
