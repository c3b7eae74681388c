// Keeps the focus stage's position across restarts in one small JSON file, written atomically, with a
// "moving" record before every move so a run killed mid-move is known to have left the position uncertain.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
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

/** µm for messages: enough decimals for a microstep, no float noise. */
const formatUm = (um: number) => String(Number(um.toFixed(4)));

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PositionStore {
  readonly path: string;
  private readonly now: () => number;
  /** Writes run one after another, so the file always ends with the newest record. */
  private queue: Promise<void> = Promise.resolve();

  constructor(path: string, options: { now?: () => number } = {}) {
    this.path = path;
    this.now = options.now ?? Date.now;
  }

  /** Never throws: whatever is wrong with the file becomes an uncertain position with the reason. */
  async load(): Promise<RestoredPosition> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
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
      // Where a move stopped is unknown; its start is the last place the stage was known to be.
      return {
        um: record.fromUm,
        certain: false,
        uncertainReason: `the last run ended during a move from ${formatUm(record.fromUm)} to ${formatUm(record.toUm)} µm; ${ACTION}`,
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

  /** Call before the motor turns: if the run dies before saveAt, the next start knows. */
  saveMoving(fromUm: number, toUm: number): Promise<void> {
    return this.write({ version: FORMAT_VERSION, state: 'moving', fromUm, toUm, savedAt: this.timestamp() });
  }

  saveAt(position: RestoredPosition): Promise<void> {
    const record: PositionRecord = {
      version: FORMAT_VERSION,
      state: 'idle',
      um: position.um,
      certain: position.certain,
      savedAt: this.timestamp(),
    };
    if (!position.certain && position.uncertainReason) record.uncertainReason = position.uncertainReason;
    return this.write(record);
  }

  /** Resolves once every write asked for so far is on disk. */
  async flush(): Promise<void> {
    await this.queue.catch(() => undefined);
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
      await mkdir(dir, { recursive: true });
      const file = await open(temp, 'w', 0o644);
      try {
        await file.writeFile(`${text}\n`, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
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
      const handle = await open(dir, 'r');
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
