// A fixed pool of worker threads that all run the same step on their own band of rows.
// The first failure is kept and reported to every later call; a worker that dies is an error,
// never a hang.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../worker-thread.js';
import { StackscopeError } from '../../errors.js';

interface Reply {
  id: number;
  ok: boolean;
  message?: string;
}

interface Pending {
  remaining: number;
  resolve: () => void;
  reject: (error: Error) => void;
  error: StackscopeError;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: StackscopeError | null = null;
  private closed = false;

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const worker = startWorker(new URL('./band-worker.js', import.meta.url));
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

  /** Sends `messageFor(i)` to every worker and resolves when all of them have finished. */
  run(step: string, messageFor: (index: number) => Record<string, unknown> = () => ({})): Promise<void> {
    // Created here, before dispatch, so its stack points at the caller rather than at a message handler.
    const error = new StackscopeError('WORKER_FAILED', `stacking step '${step}' failed`);
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new StackscopeError('STACKER_STATE', `worker pool is closed (step '${step}')`));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { remaining: this.workers.length, resolve, reject, error });
      this.workers.forEach((worker, index) => worker.postMessage({ ...messageFor(index), op: step, id }));
    });
  }

  private onReply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (!reply.ok) {
      this.pending.delete(reply.id);
      pending.error.message = `${pending.error.message}: ${reply.message}`;
      this.failure ??= pending.error;
      pending.reject(pending.error);
      return;
    }
    if (--pending.remaining === 0) {
      this.pending.delete(reply.id);
      pending.resolve();
    }
  }

  private fail(message: string): void {
    this.failure ??= new StackscopeError('WORKER_FAILED', message);
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.error.message = `${pending.error.message}: ${message}`;
      pending.reject(pending.error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
