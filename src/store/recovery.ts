// Puts the job folders in order when the daemon starts: jobs a crash left running become
// 'interrupted' with every whole frame kept, broken frames moved aside, temp files and a capture's
// leftover reference shot removed.
import { join } from 'node:path';
import { checkFrameFile } from './frame-check.js';
import { FRAME_FILE_PATTERN, FRAMES_DIR, MANIFEST_FILE, REFERENCE_SHOT_PATTERN } from './job-layout.js';
import { JobNotFoundError, type JobStore } from './job-store.js';
import { JOB_ID_PATTERN, UNFINISHED, type FrameEntry, type Manifest } from './manifest.js';
import { isMissing, isTempName, type StoreLogger } from './store-fs.js';

export const BROKEN_DIR = 'broken';
/** A job folder being created or deleted when the daemon stopped: `.20261128-031500-ab12.tmp-9f3c`. */
const JOB_TEMP_PATTERN = /^\.\d{8}-\d{6}-[0-9a-f]{4}\.tmp-[0-9a-f]+$/;

export interface RecoveryReport {
  /** Jobs that were queued, capturing or stacking and are now interrupted. */
  interrupted: string[];
  /** Frames found on disk but not in their manifest (written just before a crash), now listed. */
  adoptedFrames: { jobId: string; file: string }[];
  /** Frames that were empty or truncated, moved to frames/broken/ and not listed. */
  brokenFrames: { jobId: string; file: string; reason: string }[];
  /** Frames the manifest listed whose files are gone; dropped from the list. */
  missingFrames: { jobId: string; file: string }[];
  /** Unfinished writes, and reference shots of captures cut short, removed (paths). */
  removedTemp: string[];
  /** Folders left exactly as they were: no readable manifest, or recovery itself failed there. */
  skipped: { name: string; problem: string }[];
}

/** Recovers every job folder; problems with one folder are reported, never thrown. */
export async function recoverJobs(
  store: JobStore,
  options: { logger?: StoreLogger } = {},
): Promise<RecoveryReport> {
  const logger = options.logger ?? store.logger;
  const report: RecoveryReport = {
    interrupted: [],
    adoptedFrames: [],
    brokenFrames: [],
    missingFrames: [],
    removedTemp: [],
    skipped: [],
  };
  const entries = await store.fs.readdir(store.jobsDir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(store.jobsDir, entry.name);
    try {
      if (JOB_TEMP_PATTERN.test(entry.name)) {
        await store.fs.rm(path, { recursive: true, force: true });
        report.removedTemp.push(path);
      } else if (entry.isDirectory() && JOB_ID_PATTERN.test(entry.name)) {
        await recoverJob(store, entry.name, report);
      } else if (entry.isDirectory() && !entry.name.startsWith('.')) {
        report.skipped.push({ name: entry.name, problem: 'folder name is not a job id' });
      }
    } catch (error) {
      report.skipped.push({ name: entry.name, problem: (error as Error).message });
    }
  }
  for (const { name, problem } of report.skipped) {
    logger?.warn(
      { folder: join(store.jobsDir, name), problem },
      'job folder skipped by recovery, left as it is',
    );
  }
  if (report.interrupted.length > 0 || report.removedTemp.length > 0) {
    logger?.info(
      {
        interrupted: report.interrupted,
        adoptedFrames: report.adoptedFrames.length,
        brokenFrames: report.brokenFrames.length,
        removedTemp: report.removedTemp.length,
      },
      'job store recovered after an unclean stop',
    );
  }
  return report;
}

async function recoverJob(store: JobStore, id: string, report: RecoveryReport): Promise<void> {
  // Read first: a folder without a readable manifest is someone's to look at, so nothing in it
  // is touched, not even temp files.
  const manifest = await store.read(id).catch((error: unknown) => {
    if (error instanceof JobNotFoundError) throw new Error(`${MANIFEST_FILE} is missing`);
    throw error;
  });
  const unfinished = UNFINISHED.has(manifest.status);
  // A reference shot is removed once decoded; one still in an unfinished job's folder was taken just
  // before the stop.
  await removeLeftovers(
    store,
    store.jobDir(id),
    report,
    (name) => isTempName(name) || (unfinished && REFERENCE_SHOT_PATTERN.test(name)),
  );
  await removeLeftovers(store, store.framesDir(id), report, isTempName);
  if (!unfinished) return;
  const frames = await reconcileFrames(store, manifest, report);
  const adopted = report.adoptedFrames.filter((f) => f.jobId === id).length;
  const broken = report.brokenFrames.filter((f) => f.jobId === id).length;
  const missing = report.missingFrames.filter((f) => f.jobId === id).length;
  const finishedAt = store.now().toISOString();
  await store.update(id, (draft) => {
    draft.note =
      `interrupted while ${manifest.status}: the daemon stopped before the job finished; ` +
      `${frames.length} frame(s) kept (${adopted} recovered from disk), ` +
      `${broken} broken frame(s) moved to ${FRAMES_DIR}/${BROKEN_DIR}/, ${missing} missing`;
    draft.status = 'interrupted';
    draft.finishedAt = finishedAt;
    draft.frames = frames;
    draft.progress.captured = frames.length;
  });
  report.interrupted.push(id);
}

/** Removes the names in `dir` that `isLeftover` picks (one read of the folder; a missing one is fine). */
async function removeLeftovers(
  store: JobStore,
  dir: string,
  report: RecoveryReport,
  isLeftover: (name: string) => boolean,
): Promise<void> {
  let names: string[];
  try {
    names = await store.fs.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  for (const name of names.filter(isLeftover)) {
    await store.fs.rm(join(dir, name), { recursive: true, force: true });
    report.removedTemp.push(join(dir, name));
  }
}

/** The frames to keep: listed ones that are whole, plus whole orphans named like the store names frames. */
async function reconcileFrames(
  store: JobStore,
  manifest: Manifest,
  report: RecoveryReport,
): Promise<FrameEntry[]> {
  const jobId = manifest.id;
  const framesDir = store.framesDir(jobId);
  let onDisk: Set<string>;
  try {
    const entries = await store.fs.readdir(framesDir, { withFileTypes: true });
    onDisk = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  } catch (error) {
    if (!isMissing(error)) throw error;
    onDisk = new Set();
  }
  const kept: FrameEntry[] = [];
  const setAside = async (file: string, reason: string) => {
    await moveAside(store, framesDir, file);
    report.brokenFrames.push({ jobId, file, reason });
  };
  for (const frame of manifest.frames) {
    if (!onDisk.has(frame.file)) {
      report.missingFrames.push({ jobId, file: frame.file });
      continue;
    }
    onDisk.delete(frame.file);
    const check = await checkFrameFile(store.fs, join(framesDir, frame.file));
    if (check.ok) kept.push(frame);
    else await setAside(frame.file, check.reason);
  }
  const taken = new Set(kept.map((f) => f.index));
  for (const file of [...onDisk].sort()) {
    const match = FRAME_FILE_PATTERN.exec(file);
    // Not a name the store gives frames: someone else's file, left where it is.
    if (!match) continue;
    const index = Number(match[1]);
    if (taken.has(index)) {
      await setAside(file, `frame ${index} is already listed under another name`);
      continue;
    }
    const check = await checkFrameFile(store.fs, join(framesDir, file));
    if (!check.ok) {
      await setAside(file, check.reason);
      continue;
    }
    kept.push({ index, file });
    taken.add(index);
    report.adoptedFrames.push({ jobId, file });
  }
  return kept.sort((a, b) => a.index - b.index);
}

/** Moves a frame into frames/broken/, never over an earlier one of the same name. */
async function moveAside(store: JobStore, framesDir: string, file: string): Promise<void> {
  const brokenDir = join(framesDir, BROKEN_DIR);
  await store.fs.mkdir(brokenDir, { recursive: true });
  for (let n = 0; ; n++) {
    const target = join(brokenDir, n === 0 ? file : `${file}.${n}`);
    try {
      await store.fs.stat(target);
    } catch (error) {
      if (!isMissing(error)) throw error;
      await store.fs.rename(join(framesDir, file), target);
      return;
    }
  }
}
