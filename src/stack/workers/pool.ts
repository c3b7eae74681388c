// A fixed pool of worker threads that all run the same step on their own band of rows.
// The first failure is kept and reported to every later call; a worker that dies is an error,
// never a hang.
//
// Steps may be queued without waiting for the previous one: every step carries its place in the
// sequence, and a worker starts it only once every worker has finished every earlier step (a
// barrier in shared memory, see band-worker.ts). So the workers go from one step to the next without
// a round trip through the main thread, which may be busy with the next frame.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../worker-thread.js';
import { StackscopeError } from '../../errors.js';

interface Reply {
  id: number;
  ok: boolean;
  message?: string;
  /** How long the step took this worker, barrier wait excluded. */
  ms?: number;
}

interface Pending {
  remaining: number;
  slowest: number;
  resolve: (ms: number) => void;
  reject: (error: Error) => void;
  error: StackscopeError;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: StackscopeError | null = null;
  private closed = false;
  /** [0]: steps finished, summed over the workers; [1]: non-zero once the pool has failed or closed. */
  private readonly sync = new Int32Array(new SharedArrayBuffer(8));
  private sequence = 0;

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const worker = startWorker(new URL('./band-worker.js', import.meta.url), {
        workerData: { sync: this.sync.buffer, count },
      });
      worker.on('message', (reply: Reply) => this.onReply(reply));
      worker.on('error', (error) => this.fail(`worker ${i} crashed: ${error.message}`));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(`worker ${i} exited unexpectedly (code ${code})`);
      });
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Sends `messageFor(i)` to every worker and resolves, with the slowest worker's time on it (ms),
   * when all of them have finished. The workers start it after every step sent before it, whether or
   * not the caller awaited those.
   */
  run(step: string, messageFor: (index: number) => Record<string, unknown> = () => ({})): Promise<number> {
    // Created here, before dispatch, so its stack points at the caller rather than at a message handler.
    const error = new StackscopeError('WORKER_FAILED', `stacking step '${step}' failed`);
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new StackscopeError('STACKER_STATE', `worker pool is closed (step '${step}')`));
    const id = this.nextId++;
    const seq = this.sequence++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { remaining: this.workers.length, slowest: 0, resolve, reject, error });
      this.workers.forEach((worker, index) =>
        worker.postMessage({ ...messageFor(index), op: step, id, seq }),
      );
    });
  }

  private onReply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (!reply.ok) {
      this.pending.delete(reply.id);
      // Later steps would read what this one failed to write.
      this.release();
      pending.error.message = `${pending.error.message}: ${reply.message}`;
      this.failure ??= pending.error;
      pending.reject(pending.error);
      return;
    }
    pending.slowest = Math.max(pending.slowest, reply.ms ?? 0);
    if (--pending.remaining === 0) {
      this.pending.delete(reply.id);
      pending.resolve(pending.slowest);
    }
  }

  /** Workers waiting at the barrier give up (a dead worker would never arrive). */
  private release(): void {
    Atomics.store(this.sync, 1, 1);
    Atomics.notify(this.sync, 0);
  }

  private fail(message: string): void {
    this.failure ??= new StackscopeError('WORKER_FAILED', message);
    this.release();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.error.message = `${pending.error.message}: ${message}`;
      pending.reject(pending.error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
