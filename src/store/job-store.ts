// Job folders on disk (dataDir/jobs/<id>/: manifest.json, frames/, results): create, read, update
// one at a time per job, list newest first, delete. Ids are checked before any path is built.
import { join } from 'node:path';
import { BadArgumentError, InputError, StackscopeError } from '../errors.js';
import { checkFrameFile } from './frame-check.js';
import { FRAMES_DIR, JobLayout, MANIFEST_FILE, idStamp } from './job-layout.js';
import {
  JOB_ID_PATTERN,
  MANIFEST_VERSION,
  frameEntrySchema,
  isActive,
  manifestSchema,
  parseManifest,
  quoteName,
  type FrameEntry,
  type JobKind,
  type JobStatus,
  type Manifest,
} from './manifest.js';
import {
  defaultFs,
  isMissing,
  randomHex,
  syncDir,
  syncFile,
  writeError,
  writeFileDurable,
  type StoreFs,
  type StoreLogger,
} from './store-fs.js';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

export class JobNotFoundError extends StackscopeError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('NOT_FOUND', `no job with id ${quoteName(jobId)}`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

export class JobActiveError extends StackscopeError {
  readonly jobId: string;
  constructor(jobId: string, status: JobStatus, action: string) {
    super('JOB_ACTIVE', `cannot ${action} job ${jobId}: it is ${status}; cancel it first`);
    this.name = 'JobActiveError';
    this.jobId = jobId;
  }
}

export interface JobStoreOptions {
  /** The daemon's data folder; jobs live in its jobs/ subfolder. */
  dataDir: string;
  logger?: StoreLogger;
  /** File system calls (default node:fs/promises); tests pass spies or fakes. */
  fs?: StoreFs;
  /** Wall clock for ids and timestamps (default: the system clock). */
  now?: () => Date;
}

export interface NewJob {
  kind: JobKind;
  label?: string;
  params?: Record<string, unknown>;
  /** Frames the job expects (0 when unknown yet). */
  total?: number;
  sourceJobId?: string;
}

export interface JobPage {
  jobs: Manifest[];
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  next?: string;
}

/** Changes a copy of the manifest in place, or returns a replacement; may be async. */
export type ManifestMutator = (draft: Manifest) => void | Manifest | Promise<void | Manifest>;

export class JobStore extends JobLayout {
  readonly fs: StoreFs;
  readonly logger?: StoreLogger;
  readonly now: () => Date;
  /** Tail of each job's chain of reads-modify-writes; one link at a time per job. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private lastId = '';

  private constructor(options: JobStoreOptions) {
    super(options.dataDir);
    this.fs = options.fs ?? defaultFs;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
  }

  static async open(options: JobStoreOptions): Promise<JobStore> {
    const store = new JobStore(options);
    try {
      await store.fs.mkdir(store.jobsDir, { recursive: true });
    } catch (error) {
      throw writeError(store.jobsDir, error);
    }
    return store;
  }

  /** Creates the job's folder complete (manifest + frames/) or not at all. */
  async create(job: NewJob): Promise<Manifest> {
    // A restack must name a job that exists (NOT_FOUND, or BAD_ARGUMENT for a malformed id).
    if (job.sourceJobId !== undefined) await this.get(job.sourceJobId);
    for (let attempt = 0; ; attempt++) {
      const id = this.nextId();
      const checked = manifestSchema.safeParse({
        version: MANIFEST_VERSION,
        id,
        label: job.label ?? '',
        kind: job.kind,
        status: 'queued',
        createdAt: this.now().toISOString(),
        params: job.params ?? {},
        progress: { captured: 0, stacked: 0, total: job.total ?? 0 },
        frames: [],
        results: {},
        timings: {},
        ...(job.sourceJobId === undefined ? {} : { sourceJobId: job.sourceJobId }),
      });
      if (!checked.success) throw new BadArgumentError(`new job: ${describeIssue(checked.error.issues[0])}`);
      // Built under a temp name and renamed: a crash leaves a temp folder recovery removes, never
      // a job folder without a manifest.
      const building = join(this.jobsDir, `.${id}.tmp-${randomHex(4)}`);
      try {
        await this.fs.mkdir(join(building, FRAMES_DIR), { recursive: true });
        await writeFileDurable(this.fs, join(building, MANIFEST_FILE), serialise(checked.data));
        await this.fs.rename(building, join(this.jobsDir, id));
        await syncDir(this.fs, this.jobsDir);
        return checked.data;
      } catch (error) {
        await this.fs.rm(building, { recursive: true, force: true }).catch(() => undefined);
        const code = (error as NodeJS.ErrnoException).code;
        // Another daemon (or a restored backup) took this id: draw another.
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && attempt < 5) continue;
        throw writeError(join(this.jobsDir, id), error);
      }
    }
  }

  async get(id: string): Promise<Manifest> {
    return this.read(this.checkId(id));
  }

  /**
   * Read-modify-write of one job's manifest. Updates of one job run one after another in call
   * order, so none is lost; a mutator that throws leaves the manifest as it was.
   */
  async update(id: string, mutator: ManifestMutator): Promise<Manifest> {
    const checked = this.checkId(id);
    return this.serialised(checked, () => this.modify(checked, mutator));
  }

  /** Newest first; `before` is the `next` of the previous page. Unreadable manifests are skipped. */
  async list(options: { limit?: number; before?: string } = {}): Promise<JobPage> {
    const limit = options.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new BadArgumentError(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
    }
    const before = options.before === undefined ? undefined : this.checkId(options.before);
    const ids = (await this.fs.readdir(this.jobsDir))
      .filter((name) => JOB_ID_PATTERN.test(name) && (before === undefined || name < before))
      .sort()
      .reverse();
    const jobs: Manifest[] = [];
    let consumed = 0;
    while (jobs.length < limit && consumed < ids.length) {
      const batch = ids.slice(consumed, consumed + limit - jobs.length);
      consumed += batch.length;
      const read = await Promise.allSettled(batch.map((id) => this.read(id)));
      read.forEach((result, i) => {
        if (result.status === 'fulfilled') jobs.push(result.value);
        // A job deleted since readdir is simply gone; anything else is worth a line in the log.
        else if (!(result.reason instanceof JobNotFoundError)) {
          this.logger?.warn(
            { jobId: batch[i], err: result.reason },
            'job skipped in list: manifest unreadable',
          );
        }
      });
    }
    return consumed < ids.length && jobs.length > 0 ? { jobs, next: jobs[jobs.length - 1].id } : { jobs };
  }

  /** Removes a job's folder; refuses while the job is capturing or stacking (JOB_ACTIVE). */
  async delete(id: string): Promise<void> {
    const checked = this.checkId(id);
    await this.serialised(checked, async () => {
      const manifest = await this.read(checked);
      if (isActive(manifest.status)) throw new JobActiveError(checked, manifest.status, 'delete');
      // Renamed away first, so the job vanishes at once; a crash mid-removal leaves a temp folder.
      const doomed = join(this.jobsDir, `.${checked}.tmp-${randomHex(4)}`);
      try {
        await this.fs.rename(this.jobDir(checked), doomed);
        await syncDir(this.fs, this.jobsDir);
        await this.fs.rm(doomed, { recursive: true, force: true });
      } catch (error) {
        if (isMissing(error)) throw new JobNotFoundError(checked);
        throw writeError(this.jobDir(checked), error);
      }
    });
  }

  /**
   * Records a frame whose file the caller has finished writing in frames/: checks it is whole,
   * fsyncs it and its folder, then lists it, so the manifest never names a frame a crash could lose.
   */
  async addFrame(id: string, frame: FrameEntry): Promise<Manifest> {
    const checked = this.checkId(id);
    const parsed = frameEntrySchema.safeParse(frame);
    if (!parsed.success) throw new BadArgumentError(`frame: ${describeIssue(parsed.error.issues[0])}`);
    const entry = parsed.data;
    const path = this.frameFile(checked, entry.file);
    const check = await checkFrameFile(this.fs, path);
    if (!check.ok) throw new InputError('INPUT_UNREADABLE', path, check.reason);
    try {
      await syncFile(this.fs, path);
      await syncDir(this.fs, this.framesDir(checked));
    } catch (error) {
      throw writeError(path, error);
    }
    return this.update(checked, (draft) => {
      if (draft.frames.some((f) => f.index === entry.index)) {
        throw new BadArgumentError(`job ${checked} already has frame ${entry.index}`);
      }
      draft.frames.push(entry);
      draft.frames.sort((a, b) => a.index - b.index);
      draft.progress.captured = draft.frames.length;
    });
  }

  /** Reads and checks a job's manifest (id already checked). */
  async read(id: string): Promise<Manifest> {
    const path = this.manifestPath(id);
    let text: string;
    try {
      text = await this.fs.readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) throw new JobNotFoundError(id);
      throw new InputError('INPUT_UNREADABLE', path, (error as Error).message, error);
    }
    const parsed = parseManifest(text);
    if (!parsed.ok) {
      throw new InputError('INPUT_UNREADABLE', path, `not a valid job manifest: ${parsed.problem}`);
    }
    if (parsed.manifest.id !== id) {
      throw new InputError(
        'INPUT_UNREADABLE',
        path,
        `manifest names job ${parsed.manifest.id}, folder is ${id}`,
      );
    }
    return parsed.manifest;
  }

  /** Runs `task` after every earlier task of the same job has settled. */
  private serialised<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /** The read-modify-write itself; callers hold the job's place in its queue. */
  private async modify(id: string, mutator: ManifestMutator): Promise<Manifest> {
    const current = await this.read(id);
    const draft = structuredClone(current);
    const returned: unknown = await mutator(draft);
    // `(m) => m.progress.captured++` returns a number, not a manifest: that means "changed in place".
    const next = typeof returned === 'object' && returned !== null ? returned : draft;
    const checked = manifestSchema.safeParse(next);
    if (!checked.success) {
      throw new BadArgumentError(`update of job ${id}: ${describeIssue(checked.error.issues[0])}`);
    }
    if (checked.data.id !== id) throw new BadArgumentError(`update of job ${id} may not change its id`);
    await writeFileDurable(this.fs, this.manifestPath(id), serialise(checked.data));
    return checked.data;
  }

  /** Sortable and unique within this process: ids of one second count up from a random start. */
  private nextId(): string {
    const stamp = idStamp(this.now());
    const last = this.lastId.startsWith(`${stamp}-`) ? parseInt(this.lastId.slice(-4), 16) : -1;
    const suffix = last >= 0 && last < 0xffff ? last + 1 : Math.floor(Math.random() * 0x8000);
    this.lastId = `${stamp}-${suffix.toString(16).padStart(4, '0')}`;
    return this.lastId;
  }
}

function serialise(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`;
}
