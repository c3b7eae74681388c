// Manifests the disk refused (full, failing): kept in memory so every reader sees them at once, and
// written again every retryMs until they land. Each attempt runs in the job's queue, after its other writes.
import type { Manifest } from './manifest.js';
import type { StoreLogger } from './store-fs.js';

export interface UnsavedManifestsOptions {
  retryMs: number;
  /** Writes one manifest durably; throws when the disk still refuses it. */
  write: (id: string, manifest: Manifest) => Promise<void>;
  /** Runs `attempt` in job `id`'s queue. */
  enqueue: (id: string, attempt: () => Promise<void>) => Promise<void>;
  logger?: StoreLogger;
}

export class UnsavedManifests {
  private readonly options: UnsavedManifestsOptions;
  private readonly kept = new Map<string, Manifest>();
  private timer: NodeJS.Timeout | null = null;

  constructor(options: UnsavedManifestsOptions) {
    this.options = options;
  }

  /** A copy of the manifest kept for job `id`, if any. */
  get(id: string): Manifest | undefined {
    const kept = this.kept.get(id);
    return kept && structuredClone(kept);
  }

  has(id: string): boolean {
    return this.kept.has(id);
  }

  /** The job's manifest was written (with what was kept on top) or its folder is gone. */
  forget(id: string): void {
    this.kept.delete(id);
  }

  /** Keeps `manifest` and tries to write it now; call from the job's queue. */
  async keep(id: string, manifest: Manifest): Promise<void> {
    this.kept.set(id, manifest);
    await this.attempt(id);
  }

  private async attempt(id: string): Promise<void> {
    const kept = this.kept.get(id);
    if (!kept) return;
    try {
      await this.options.write(id, kept);
      if (this.kept.get(id) === kept) this.kept.delete(id);
      this.options.logger?.info({ jobId: id }, 'a manifest kept in memory was written');
    } catch (error) {
      this.options.logger?.warn(
        { jobId: id, err: error },
        'a manifest kept in memory still cannot be written',
      );
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const id of this.kept.keys())
        this.options.enqueue(id, () => this.attempt(id)).catch(() => undefined);
    }, this.options.retryMs);
    // Never keeps the daemon alive: after a restart, recovery settles the job instead.
    this.timer.unref();
  }
}
