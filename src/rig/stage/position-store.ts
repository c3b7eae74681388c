// Keeps the focus stage's position across restarts in one small JSON file, written atomically: a durable
// "moving" record before every move (a run killed mid-move leaves the position uncertain), and a lazy "idle" one after.
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { StackscopeError } from '../../errors.js';

/** What the last run left behind, as the stage should start from it. */
export interface RestoredPosition {
  um: number;
  certain: boolean;
  uncertainReason?: string;
}

const FORMAT_VERSION = 1;
const ACTION = 'home the stage or set its position';

const idleRecord = z.object({
  version: z.literal(FORMAT_VERSION),
  state: z.literal('idle'),
  um: z.number(),
  certain: z.boolean(),
  uncertainReason: z.string().optional(),
  savedAt: z.string().optional(),
});

const movingRecord = z.object({
  version: z.literal(FORMAT_VERSION),
  state: z.literal('moving'),
  fromUm: z.number(),
  toUm: z.number(),
  savedAt: z.string().optional(),
});

const positionRecord = z.discriminatedUnion('state', [idleRecord, movingRecord]);
type PositionRecord = z.infer<typeof positionRecord>;

/** The file calls the store makes; tests pass a wrapper to count or fail them. */
export interface PositionFs {
  mkdir: typeof nodeFs.mkdir;
  open: typeof nodeFs.open;
  readFile: typeof nodeFs.readFile;
  rename: typeof nodeFs.rename;
  unlink: typeof nodeFs.unlink;
}

export interface PositionStoreOptions {
  now?: () => number;
  fs?: PositionFs;
  /** How long a lazy "idle" record waits for the next move to supersede it before it is written, ms. */
  idleDelayMs?: number;
}

/** Long enough to span the gap between the moves of a stack, short enough that an idle stage is soon saved. */
export const IDLE_SAVE_DELAY_MS = 1000;

/** µm for messages: enough decimals for a microstep, no float noise. */
const formatUm = (um: number) => String(Number(um.toFixed(4)));

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PositionStore {
  readonly path: string;
  private readonly now: () => number;
  private readonly fs: PositionFs;
  private readonly idleDelayMs: number;
  /** Writes run one after another, so the file always ends with the newest record. */
  private queue: Promise<void> = Promise.resolve();
  /** An "idle" record not written yet: a move soon after makes it moot (see saveAtLater). */
  private deferred: { record: PositionRecord; timer: NodeJS.Timeout; settle: () => void } | null = null;

  constructor(path: string, options: PositionStoreOptions = {}) {
    this.path = path;
    this.now = options.now ?? Date.now;
    this.fs = options.fs ?? nodeFs;
    this.idleDelayMs = options.idleDelayMs ?? IDLE_SAVE_DELAY_MS;
  }

  /** Never throws: whatever is wrong with the file becomes an uncertain position with the reason. */
  async load(): Promise<RestoredPosition> {
    let text: string;
    try {
      text = (await this.fs.readFile(this.path, 'utf8')) as string;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `${this.path} does not exist` : describeError(error);
      return { um: 0, certain: false, uncertainReason: `no saved position (${why}); ${ACTION}` };
    }

    let record: PositionRecord;
    try {
      const parsed = positionRecord.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        throw new Error(`${where}${issue.message}`);
      }
      record = parsed.data;
    } catch (error) {
      return {
        um: 0,
        certain: false,
        uncertainReason: `the saved position in ${this.path} is unreadable (${describeError(error)}); ${ACTION}`,
      };
    }

    if (record.state === 'moving') {
      // Where a move stopped is unknown; its start is the last place the stage was known to be. The
      // "idle" record after a move is written lazily, so a run may also have ended just after one.
      return {
        um: record.fromUm,
        certain: false,
        uncertainReason: `the last run ended during a move from ${formatUm(record.fromUm)} to ${formatUm(record.toUm)} µm (or before its end was saved); ${ACTION}`,
      };
    }
    return record.certain
      ? { um: record.um, certain: true }
      : {
          um: record.um,
          certain: false,
          uncertainReason: record.uncertainReason ?? `position not known; ${ACTION}`,
        };
  }

  /**
   * Call before the motor turns; resolves once the record is durable, so if the run dies during the
   * move the next start knows. It supersedes an "idle" record still waiting to be written.
   */
  saveMoving(fromUm: number, toUm: number): Promise<void> {
    this.dropDeferred();
    return this.write({ version: FORMAT_VERSION, state: 'moving', fromUm, toUm, savedAt: this.timestamp() });
  }

  /** Saves where the stage is, durably, now (a declared position, a stop, close). */
  saveAt(position: RestoredPosition): Promise<void> {
    this.dropDeferred();
    return this.write(this.idleRecord(position));
  }

  /**
   * Saves where a move ended, but only once no other move has followed for idleDelayMs (or on flush):
   * in a stack the next move's "moving" record replaces it, so it is never written at all. Until it
   * lands the file still says "moving", so a crash meanwhile restarts uncertain: safe, if pessimistic.
   * Resolves once written, or once superseded.
   */
  saveAtLater(position: RestoredPosition): Promise<void> {
    this.dropDeferred();
    return new Promise<void>((resolve, reject) => {
      const record = this.idleRecord(position);
      const timer = setTimeout(() => {
        this.deferred = null;
        this.write(record).then(resolve, reject);
      }, this.idleDelayMs);
      // A pending record never keeps the process alive: not landing is the safe outcome.
      timer.unref();
      this.deferred = { record, timer, settle: resolve };
    });
  }

  /** Writes a deferred record now, then resolves once every write asked for so far is on disk. */
  async flush(): Promise<void> {
    const deferred = this.deferred;
    if (deferred) {
      this.deferred = null;
      clearTimeout(deferred.timer);
      const written = this.write(deferred.record);
      written.then(deferred.settle, deferred.settle);
    }
    await this.queue.catch(() => undefined);
  }

  private dropDeferred(): void {
    if (!this.deferred) return;
    clearTimeout(this.deferred.timer);
    this.deferred.settle();
    this.deferred = null;
  }

  private idleRecord(position: RestoredPosition): PositionRecord {
    const record: PositionRecord = {
      version: FORMAT_VERSION,
      state: 'idle',
      um: position.um,
      certain: position.certain,
      savedAt: this.timestamp(),
    };
    if (!position.certain && position.uncertainReason) record.uncertainReason = position.uncertainReason;
    return record;
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }

  private write(record: PositionRecord): Promise<void> {
    const next = this.queue.catch(() => undefined).then(() => this.writeAtomically(JSON.stringify(record)));
    this.queue = next;
    return next;
  }

  /**
   * Temp file in the same directory (rename is only atomic within one file system), fsync before the
   * rename so the new name never points at data still in the page cache, then fsync the directory so
   * the rename itself survives a power cut.
   */
  private async writeAtomically(text: string): Promise<void> {
    const dir = dirname(this.path);
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await this.fs.mkdir(dir, { recursive: true });
      const file = await this.fs.open(temp, 'w', 0o644);
      try {
        await file.writeFile(`${text}\n`, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await this.fs.rename(temp, this.path);
    } catch (error) {
      await this.fs.unlink(temp).catch(() => undefined);
      throw new StackscopeError(
        'OUTPUT_FAILED',
        `cannot save the stage position to ${this.path}: ${describeError(error)}`,
        { cause: error },
      );
    }
    await this.syncDirectory(dir);
  }

  private async syncDirectory(dir: string): Promise<void> {
    // Some file systems refuse fsync on a directory; the rename has happened, so this is best effort.
    try {
      const handle = await this.fs.open(dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      /* best effort */
    }
  }
}
