// Where everything of a job lives (dataDir/jobs/<id>/manifest.json, frames/, results) and the
// checks that keep every path built from an id or a name inside that job's folder.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BadArgumentError } from '../errors.js';
import { FILE_NAME_PATTERN, JOB_ID_PATTERN, quoteName } from './manifest.js';
import { isTempName } from './store-fs.js';

export const JOBS_DIR = 'jobs';
export const MANIFEST_FILE = 'manifest.json';
export const FRAMES_DIR = 'frames';
/** Frame files the store names: frame-0007.jpg. Recovery reads the index back from the name. */
export const FRAME_FILE_PATTERN = /^frame-(\d{4,5})\.([a-z0-9]{1,5})$/;
export const MAX_FRAME_INDEX = 99_999;
/**
 * The shot a live capture aligns its frames to (jobs/capture-stack.ts), in the job's folder only
 * until it is decoded: one left there is from a capture the daemon's stop cut short.
 */
export const REFERENCE_SHOT_PATTERN = /^reference\.(jpg|png)$/;

export function referenceShotName(extension: 'jpg' | 'png'): string {
  return `reference.${extension}`;
}

/** Returns `id` if it is a well-formed job id; throws BAD_ARGUMENT otherwise, before any disk access. */
export function checkJobId(id: unknown): string {
  if (typeof id === 'string' && JOB_ID_PATTERN.test(id)) return id;
  const shown = typeof id === 'string' ? quoteName(id) : typeof id;
  throw new BadArgumentError(`job id ${shown} is not a job id (expected the form 20261128-031500-ab12)`);
}

/** `20261128-031500`: the UTC second an id starts with. */
export function idStamp(time: Date): string {
  return time.toISOString().replace(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3-$4$5$6');
}

/** Pure path arithmetic over a data folder; the store adds the disk. */
export class JobLayout {
  readonly dataDir: string;
  readonly jobsDir: string;

  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
    this.jobsDir = join(this.dataDir, JOBS_DIR);
  }

  checkId(id: unknown): string {
    return checkJobId(id);
  }

  jobDir(id: string): string {
    return inside(this.jobsDir, checkJobId(id));
  }

  framesDir(id: string): string {
    return join(this.jobDir(id), FRAMES_DIR);
  }

  manifestPath(id: string): string {
    return join(this.jobDir(id), MANIFEST_FILE);
  }

  /** Where frame `index` of job `id` is stored: frames/frame-0007.jpg (`ext` with or without a dot). */
  framePath(id: string, index: number, ext: string): string {
    if (!Number.isInteger(index) || index < 0 || index > MAX_FRAME_INDEX) {
      throw new BadArgumentError(
        `frame index must be a whole number from 0 to ${MAX_FRAME_INDEX}, got ${index}`,
      );
    }
    const extension = String(ext).replace(/^\./, '').toLowerCase();
    const name = `frame-${String(index).padStart(4, '0')}.${extension}`;
    if (!FRAME_FILE_PATTERN.test(name)) {
      throw new BadArgumentError(`frame extension ${quoteName(String(ext))} is not 1–5 letters or digits`);
    }
    return inside(this.framesDir(id), name);
  }

  /** Where a frame listed in the manifest (`file`, a plain name) is. */
  frameFile(id: string, file: string): string {
    if (typeof file !== 'string' || !FILE_NAME_PATTERN.test(file)) {
      throw new BadArgumentError(`frame file ${quoteName(String(file))} is not a plain file name`);
    }
    return inside(this.framesDir(id), file);
  }

  /** Where a result file (result.jpg, depth.png, mesh.glb, …) of job `id` is stored. */
  resultPath(id: string, name: string): string {
    const ok = typeof name === 'string' && FILE_NAME_PATTERN.test(name) && name !== MANIFEST_FILE;
    if (!ok || isTempName(name)) {
      throw new BadArgumentError(
        `result name ${quoteName(String(name))} is not a plain file name ` +
          `(letters, digits, . _ -, starting with a letter or digit; not ${MANIFEST_FILE})`,
      );
    }
    return inside(this.jobDir(id), name);
  }
}

/** Joins a checked name to a folder and proves, independently of the name checks, that it stays inside. */
function inside(dir: string, name: string): string {
  const path = join(dir, name);
  const rel = relative(dir, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new BadArgumentError(`${quoteName(name)} would leave ${dir}`);
  }
  return path;
}
