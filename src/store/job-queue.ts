// The job store's per-job queue: reads-modify-writes of one job run one at a time in call order, and
// the changes that pile up behind a write are applied together and written once (group commit).
import type { ChangeOutcome, ManifestChange } from './manifest-changes.js';
import type { Manifest } from './manifest.js';

/** Applies a batch of changes to one job's manifest and writes it once; throws if nothing could be done. */
export type BatchCommit = (id: string, changes: ManifestChange[]) => Promise<ChangeOutcome[]>;

/** How long a lazy change waits for another write to ride along with, at most, ms. */
export const LAZY_CHANGE_MS = 1000;

type Item =
  | {
      kind: 'task';
      run: () => Promise<unknown>;
      resolve: (value: unknown) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'change';
      change: ManifestChange;
      lazy: boolean;
      resolve: (manifest: Manifest) => void;
      reject: (e: unknown) => void;
    };

interface Queue {
  items: Item[];
  draining: boolean;
  /** Set while only lazy changes wait: writes them when it fires. */
  timer: NodeJS.Timeout | null;
}

export class JobQueues {
  private readonly commit: BatchCommit;
  private readonly lazyMs: number;
  private readonly queues = new Map<string, Queue>();

  constructor(commit: BatchCommit, options: { lazyMs?: number } = {}) {
    this.commit = commit;
    this.lazyMs = options.lazyMs ?? LAZY_CHANGE_MS;
  }

  /**
   * A change of job `id`'s manifest; resolves with the manifest as it stood just after it, once on
   * disk. A lazy change does not start a write: it waits (at most lazyMs) for one to share.
   */
  change(id: string, change: ManifestChange, options: { lazy?: boolean } = {}): Promise<Manifest> {
    return new Promise((resolve, reject) =>
      this.enqueue(id, { kind: 'change', change, lazy: options.lazy ?? false, resolve, reject }),
    );
  }

  /** Exclusive work on job `id` (a delete), after every earlier change and task of it. */
  task<T>(id: string, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.enqueue(id, { kind: 'task', run, resolve: resolve as (value: unknown) => void, reject }),
    );
  }

  private enqueue(id: string, item: Item): void {
    let queue = this.queues.get(id);
    if (!queue) {
      queue = { items: [], draining: false, timer: null };
      this.queues.set(id, queue);
    }
    queue.items.push(item);
    if (queue.draining) return;
    if (item.kind === 'change' && item.lazy) this.waitLazily(id, queue);
    else this.start(id, queue, false);
  }

  private waitLazily(id: string, queue: Queue): void {
    if (queue.timer) return;
    queue.timer = setTimeout(() => this.start(id, queue, true), this.lazyMs);
  }

  private start(id: string, queue: Queue, due: boolean): void {
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = null;
    queue.draining = true;
    void this.drain(id, queue, due);
  }

  private async drain(id: string, queue: Queue, due: boolean): Promise<void> {
    // Changes asked for in the same turn as the first one share its write.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.items.length > 0) {
      if (!due && queue.items.every((item) => item.kind === 'change' && item.lazy)) {
        queue.draining = false;
        this.waitLazily(id, queue);
        return;
      }
      if (queue.items[0].kind === 'task') {
        const task = queue.items.shift() as Extract<Item, { kind: 'task' }>;
        await task.run().then(task.resolve, task.reject);
        continue;
      }
      let n = 0;
      while (n < queue.items.length && queue.items[n].kind === 'change') n++;
      const batch = queue.items.splice(0, n) as Extract<Item, { kind: 'change' }>[];
      try {
        const outcomes = await this.commit(
          id,
          batch.map((item) => item.change),
        );
        outcomes.forEach((outcome, i) =>
          outcome.ok ? batch[i].resolve(outcome.manifest) : batch[i].reject(outcome.error),
        );
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    queue.draining = false;
    this.queues.delete(id);
  }
}
