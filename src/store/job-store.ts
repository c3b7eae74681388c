// Job folders on disk (dataDir/jobs/<id>/: manifest.json, frames/, results): create, read, update
// one at a time per job (changes queued behind a write share the next one), list newest first, delete.
import { join } from 'node:path';
import { BadArgumentError, InputError, StackscopeError } from '../errors.js';
import { checkFrameFile } from './frame-check.js';
import { JobQueues } from './job-queue.js';
import { UnsavedManifests } from './unsaved-manifests.js';
import {
  applyBatch,
  applyChange,
  describeIssue,
  serialiseManifest as serialise,
  type ChangeOutcome,
  type ManifestChange,
  type ManifestMutator,
} from './manifest-changes.js';
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
/** How often a manifest that could not be written (disk full) is tried again, ms. */
const UNSAVED_RETRY_MS = 5000;

export type { ManifestMutator } from './manifest-changes.js';

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
  /** How often a manifest kept in memory by keepUnsaved is written again, ms (default 5 s). */
  unsavedRetryMs?: number;
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

export class JobStore extends JobLayout {
  readonly fs: StoreFs;
  readonly logger?: StoreLogger;
  readonly now: () => Date;
  /** Each job's reads-modify-writes, one at a time, batched behind a write. */
  private readonly queues = new JobQueues((id, changes) => this.commit(id, changes));
  /** Manifests that could not be written (disk full): read from here, written again until they land. */
  private readonly unsaved: UnsavedManifests;
  private lastId = '';

  private constructor(options: JobStoreOptions) {
    super(options.dataDir);
    this.fs = options.fs ?? defaultFs;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    this.unsaved = new UnsavedManifests({
      retryMs: options.unsavedRetryMs ?? UNSAVED_RETRY_MS,
      write: (id, manifest) => writeFileDurable(this.fs, this.manifestPath(id), serialise(manifest)),
      enqueue: (id, attempt) => this.queues.task(id, attempt),
      logger: this.logger,
    });
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
   * order, so none is lost; a mutator that throws leaves the manifest as it was. Updates asked for
   * while an earlier one is being written go to disk together in the next write. A lazy update
   * (progress that may lag) starts no write of its own: it rides with the job's next one, or is
   * written after LAZY_CHANGE_MS.
   */
  async update(id: string, mutator: ManifestMutator, options: { lazy?: boolean } = {}): Promise<Manifest> {
    return this.queues.change(this.checkId(id), { mutate: mutator }, options);
  }

  /** Resolves once every update of job `id` asked for so far, lazy ones too, is on disk (or refused). */
  async flush(id: string): Promise<void> {
    await this.queues.task(this.checkId(id), async () => undefined);
  }

  /**
   * A job's last word when it cannot be written (the disk is full): the change is kept in memory, so
   * get and list show it at once, and written again every unsavedRetryMs (and with the job's next
   * update) until it lands. Until then a restart finds the job unfinished and recovery interrupts it.
   */
  async keepUnsaved(id: string, mutator: ManifestMutator): Promise<Manifest> {
    const checked = this.checkId(id);
    return this.queues.task(checked, async () => {
      const next = await applyChange(checked, await this.read(checked), mutator);
      await this.unsaved.keep(checked, next);
      return next;
    });
  }

  /** True while a change of job `id` is kept in memory only (see keepUnsaved). */
  isUnsaved(id: string): boolean {
    return this.unsaved.has(id);
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
    await this.queues.task(checked, async () => {
      const manifest = await this.read(checked);
      if (isActive(manifest.status)) throw new JobActiveError(checked, manifest.status, 'delete');
      // Renamed away first, so the job vanishes at once; a crash mid-removal leaves a temp folder.
      const doomed = join(this.jobsDir, `.${checked}.tmp-${randomHex(4)}`);
      try {
        await this.fs.rename(this.jobDir(checked), doomed);
        await syncDir(this.fs, this.jobsDir);
        this.unsaved.forget(checked);
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
   * Takes its place in the job's queue at once: an update asked for after it comes after it.
   */
  async addFrame(id: string, frame: FrameEntry): Promise<Manifest> {
    const checked = this.checkId(id);
    const parsed = frameEntrySchema.safeParse(frame);
    if (!parsed.success) throw new BadArgumentError(`frame: ${describeIssue(parsed.error.issues[0])}`);
    const entry = parsed.data;
    const path = this.frameFile(checked, entry.file);
    const prepare = async () => {
      const check = await checkFrameFile(this.fs, path);
      if (!check.ok) throw new InputError('INPUT_UNREADABLE', path, check.reason);
      try {
        await syncFile(this.fs, path);
        await syncDir(this.fs, this.framesDir(checked));
      } catch (error) {
        throw writeError(path, error);
      }
    };
    return this.queues.change(checked, {
      prepare,
      mutate: (draft) => {
        if (draft.frames.some((f) => f.index === entry.index)) {
          throw new BadArgumentError(`job ${checked} already has frame ${entry.index}`);
        }
        draft.frames.push(entry);
        draft.frames.sort((a, b) => a.index - b.index);
        draft.progress.captured = draft.frames.length;
      },
    });
  }

  /** Reads and checks a job's manifest (id already checked); one kept by keepUnsaved comes from memory. */
  async read(id: string): Promise<Manifest> {
    const kept = this.unsaved.get(id);
    if (kept) return kept;
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

  /**
   * One batch of the job's queue: each change applied in turn to a copy (a refused one leaves the
   * manifest as it was), then one durable write for all. A failed write refuses every change.
   */
  private async commit(id: string, changes: ManifestChange[]): Promise<ChangeOutcome[]> {
    const { manifest, outcomes } = await applyBatch(id, await this.read(id), changes);
    if (!outcomes.some((o) => o.ok)) return outcomes;
    try {
      await writeFileDurable(this.fs, this.manifestPath(id), serialise(manifest));
    } catch (error) {
      return outcomes.map((o) => (o.ok ? { ok: false, error } : o));
    }
    // Written on top of what was kept in memory: that has landed too.
    this.unsaved.forget(id);
    return outcomes;
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
