// Schedules on disk: one <dataDir>/schedules/<id>.json per schedule (definition and state), written
// durably (temp, fsync, rename); read back on start. Each schedule's outputs live in <id>/ beside it.
import { join, resolve } from 'node:path';
import { BadArgumentError, InputError } from '../errors.js';
import { defaultFs, isMissing, writeError, writeFileDurable, type StoreFs } from '../store/store-fs.js';
import {
  SCHEDULE_FILE_VERSION,
  SCHEDULE_ID_PATTERN,
  initialState,
  parseOrThrow,
  scheduleFileSchema,
  scheduleSchema,
  type DeclaredSchedule,
  type ScheduleRecord,
} from './schema.js';

export const SCHEDULES_DIR = 'schedules';

export interface LoadedSchedules {
  records: ScheduleRecord[];
  /** Files that could not be read or are not schedules: left in place, named with the problem. */
  problems: { file: string; problem: string }[];
}

export class ScheduleStore {
  readonly dir: string;
  private readonly fs: StoreFs;
  /** The write in progress per schedule, and the latest snapshot it is to leave on disk. */
  private readonly writers = new Map<string, { text: string; done: Promise<void> }>();

  constructor(options: { dataDir: string; fs?: StoreFs }) {
    this.dir = join(resolve(options.dataDir), SCHEDULES_DIR);
    this.fs = options.fs ?? defaultFs;
  }

  async open(): Promise<void> {
    try {
      await this.fs.mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw writeError(this.dir, error);
    }
  }

  checkId(id: string): string {
    if (!SCHEDULE_ID_PATTERN.test(id))
      throw new BadArgumentError(
        `schedule id ${JSON.stringify(id.slice(0, 70))} is not lowercase letters, digits and dashes (≤ 64)`,
      );
    return id;
  }

  filePath(id: string): string {
    return join(this.dir, `${this.checkId(id)}.json`);
  }

  /** The folder of a schedule's outputs (the timelapse). */
  outputDir(id: string): string {
    return join(this.dir, this.checkId(id));
  }

  /** Every schedule file; a broken one is reported, not fatal, so one bad file stops no other series. */
  async loadAll(): Promise<LoadedSchedules> {
    const names = (await this.fs.readdir(this.dir)).filter((n) => n.endsWith('.json'));
    const records: ScheduleRecord[] = [];
    const problems: LoadedSchedules['problems'] = [];
    for (const name of names.sort()) {
      const id = name.slice(0, -'.json'.length);
      if (!SCHEDULE_ID_PATTERN.test(id)) continue;
      try {
        records.push(await this.read(id));
      } catch (error) {
        problems.push({ file: join(this.dir, name), problem: (error as Error).message });
      }
    }
    return { records, problems };
  }

  async read(id: string): Promise<ScheduleRecord> {
    const path = this.filePath(id);
    let text: string;
    try {
      text = await this.fs.readFile(path, 'utf8');
    } catch (error) {
      throw new InputError(
        'INPUT_UNREADABLE',
        path,
        isMissing(error) ? 'no such file' : (error as Error).message,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InputError('INPUT_UNREADABLE', path, `not JSON: ${(error as Error).message}`);
    }
    const parsed = scheduleFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(
        'INPUT_UNREADABLE',
        path,
        `not a schedule file: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
      );
    }
    if (parsed.data.schedule.id !== id)
      throw new InputError(
        'INPUT_UNREADABLE',
        path,
        `names schedule ${parsed.data.schedule.id}, file is ${id}`,
      );
    return { schedule: parsed.data.schedule, state: parsed.data.state };
  }

  /**
   * Writes a snapshot of the record. Saves of one schedule never overlap; those asked for while one
   * is writing collapse into one write of the latest snapshot (fewer fsyncs on an SD card).
   */
  save(record: ScheduleRecord): Promise<void> {
    const id = record.schedule.id;
    const path = this.filePath(id);
    const text = `${JSON.stringify({ version: SCHEDULE_FILE_VERSION, ...structuredClone(record) }, null, 2)}\n`;
    const writer = this.writers.get(id);
    if (writer) {
      writer.text = text;
      return writer.done;
    }
    const entry: { text: string; done: Promise<void> } = { text, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        for (let written: string | null = null; entry.text !== written;) {
          const next: string = entry.text;
          await writeFileDurable(this.fs, path, next);
          written = next;
        }
      } finally {
        this.writers.delete(id);
      }
    })();
    this.writers.set(id, entry);
    return entry.done;
  }

  /** Removes the schedule's file and its outputs folder, after any write in progress. */
  async remove(id: string): Promise<void> {
    const path = this.filePath(id);
    await this.writers.get(id)?.done.catch(() => undefined);
    try {
      await this.fs.rm(path, { force: true });
      await this.fs.rm(this.outputDir(id), { recursive: true, force: true });
    } catch (error) {
      throw writeError(path, error);
    }
  }

  /** Resolves once every write asked for so far has landed (or failed). */
  async settled(): Promise<void> {
    while (this.writers.size) await Promise.allSettled([...this.writers.values()].map((w) => w.done));
  }
}

/**
 * The stored schedules with the configuration file's applied. A declared entry that changed since it
 * was last applied (or is new) replaces the stored definition, keeping the state; an unchanged one
 * leaves API edits (a pause, say) in place. A schedule that left the file is kept, paused, and
 * becomes deletable over the API: its series and film are worth keeping.
 */
export function mergeDeclared(
  records: ScheduleRecord[],
  declared: readonly DeclaredSchedule[],
  now: Date,
): { merged: ScheduleRecord[]; changed: Set<string>; orphaned: string[] } {
  const byId = new Map(records.map((r) => [r.schedule.id, r]));
  const changed = new Set<string>();
  for (const entry of declared) {
    const fingerprint = JSON.stringify(entry);
    const existing = byId.get(entry.id);
    if (existing?.state.declared === fingerprint) continue;
    const createdAt = existing?.schedule.createdAt ?? now.toISOString();
    const schedule = parseOrThrow(scheduleSchema, { ...entry, createdAt }, `schedules.${entry.id}`);
    const state = existing
      ? { ...existing.state, source: 'config' as const, declared: fingerprint }
      : initialState('config', now, fingerprint);
    byId.set(entry.id, { schedule, state });
    changed.add(entry.id);
  }
  const orphaned: string[] = [];
  for (const r of byId.values())
    if (r.state.source === 'config' && !declared.some((d) => d.id === r.schedule.id)) {
      r.state.source = 'api';
      delete r.state.declared;
      r.schedule.paused = true;
      changed.add(r.schedule.id);
      orphaned.push(r.schedule.id);
    }
  return { merged: [...byId.values()], changed, orphaned };
}
