// The main thread's side of the simulated camera's render worker: starts it, sends it render requests,
// and between camera sessions keeps the scene it built (handed back, not copied) for the next worker.
import type { Worker } from 'node:worker_threads';
import type { SimulatedConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import { startWorker } from '../../worker-thread.js';
import {
  parkedBuffers,
  type ParkedScene,
  type RenderReply,
  type RenderRequest,
  type RenderWorkerData,
} from './render-worker.js';

export interface RenderedFrame {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

interface PendingRender {
  worker: Worker;
  resolve: (frame: RenderedFrame) => void;
  reject: (error: Error) => void;
}

export class RenderThread {
  private readonly config: SimulatedConfig;
  private worker: Worker | null = null;
  /** Settles once the current worker has built its scene (or failed to start). */
  private ready: Promise<void> | null = null;
  private stopping: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, PendingRender>();
  private nextId = 1;
  /** Open requests: while there are any the worker keeps the process alive, idle it never does. */
  private busy = 0;
  /** The last worker's scene and blur levels, while no worker runs. */
  private parked: ParkedScene | undefined;

  constructor(config: SimulatedConfig) {
    this.config = config;
  }

  /** The worker's thread id while one runs, else null. */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  /** Starts the worker unless it runs; resolves once its scene is built (seconds at 5 MP). */
  start(): Promise<void> {
    this.ready ??= this.launch();
    return this.ready;
  }

  async render(focusUm: number, index: number): Promise<RenderedFrame> {
    await this.start();
    const worker = this.worker;
    if (!worker) throw this.failure('render thread stopped before the capture');
    const id = this.nextId++;
    const frame = new Promise<RenderedFrame>((resolve, reject) =>
      this.pending.set(id, { worker, resolve, reject }),
    );
    worker.postMessage({ op: 'render', id, focusUm, index } satisfies RenderRequest);
    return this.holding(frame);
  }

  /** Takes the scene back from the worker, then ends it; renders already asked for finish first. */
  stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return this.stopping;
    this.worker = null;
    this.ready = null;
    this.stopping = this.park(worker);
    return this.stopping;
  }

  private async launch(): Promise<void> {
    // A worker being stopped still holds the scene: wait for it rather than build another.
    await this.stopping;
    const parked = this.parked;
    this.parked = undefined;
    const workerData: RenderWorkerData = { config: this.config, parked };
    const worker = startWorker(new URL('./render-worker.js', import.meta.url), {
      workerData,
      transferList: parked ? parkedBuffers(parked) : [],
    });
    this.worker = worker;
    this.refresh();
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: RenderReply) => {
        if (reply.op === 'ready') resolve();
        else this.onReply(reply);
      });
      worker.on('error', (error) => {
        reject(this.lost(worker, `crashed: ${error.message}`));
      });
      worker.on('exit', (code) => {
        reject(this.lost(worker, `exited (code ${code})`));
      });
    });
    await this.holding(ready);
  }

  private async park(worker: Worker): Promise<void> {
    const parked = new Promise<ParkedScene | undefined>((resolve) => {
      worker.on('message', (reply: RenderReply) => {
        if (reply.op === 'parked') resolve(reply.parked);
      });
      // A worker that died has nothing to hand back: the next one builds the scene again.
      worker.once('exit', () => resolve(undefined));
    });
    worker.ref();
    worker.postMessage({ op: 'park' } satisfies RenderRequest);
    this.parked = await parked;
    await worker.terminate();
  }

  private onReply(reply: RenderReply): void {
    if (reply.op !== 'frame' && reply.op !== 'failed') return;
    const request = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.op === 'frame') request?.resolve(reply);
    else request?.reject(this.failure(`render failed: ${reply.message}`));
  }

  /** The worker is gone (crash, or ended by stop): its open renders fail; the next capture starts anew. */
  private lost(worker: Worker, what: string): StackscopeError {
    if (this.worker === worker) {
      this.worker = null;
      this.ready = null;
    }
    const error = this.failure(`render thread ${what}`);
    for (const [id, request] of this.pending) {
      if (request.worker !== worker) continue;
      this.pending.delete(id);
      request.reject(error);
    }
    return error;
  }

  private failure(message: string): StackscopeError {
    return new StackscopeError('CAMERA_FAILED', `simulated camera: ${message}`);
  }

  /** `request`, with the process kept alive until it settles, so its answer can arrive. */
  private async holding<T>(request: Promise<T>): Promise<T> {
    this.busy++;
    this.refresh();
    try {
      return await request;
    } finally {
      this.busy--;
      this.refresh();
    }
  }

  private refresh(): void {
    if (this.busy > 0) this.worker?.ref();
    else this.worker?.unref();
  }
}
