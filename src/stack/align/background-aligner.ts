// Aligns the frames of a stack with the estimates on a worker thread of their own. The estimate is
// most of alignment's cost (~30–90 ms per frame on this machine's cores, several times that on a
// Pi), and on the caller's thread it held up everything else there: in the daemon the HTTP API and
// the software-timed stepping of the next move, which runs on that thread (rig/gpio/soft-timing.ts).
// Only the downscale, which reads the whole frame (~15 ms at 5 or 12 MP), stays here, where the
// decoded frame is; the worker gets the 1 MB small image, moved rather than copied. (Frames decoded
// into shared memory, to be downscaled there too, were tried: the worker held on to them until its
// next collection, and a 12 MP stack's peak RSS went from ~550 to 900–980 MB.)
import type { Worker } from 'node:worker_threads';
import { StackscopeError } from '../../errors.js';
import { backgroundWork } from '../../thread-priority.js';
import { startWorker } from '../../worker-thread.js';
import type { Frame } from '../types.js';
import { DEFAULT_ALIGN_SIZE, unaligned, type AlignMode, type AlignmentResult } from './aligner.js';
import { canvasGeometry, FrameDownscaler, type CanvasGeometry } from './downscale.js';
import type { EstimateReply, EstimateRequest } from './estimate-worker.js';

export interface EstimateWorkerData {
  mode: Exclude<AlignMode, 'none'>;
  size: number;
  /** Lower the worker's priority (thread-priority.ts: on in the daemon). */
  background: boolean;
}

/** An alignment and what it took: the downscale here and the estimate on the worker (ms), no waits. */
export interface CostedAlignment extends AlignmentResult {
  costMs: number;
}

interface Pending {
  resolve: (reply: { result: AlignmentResult | null; ms: number }) => void;
  reject: (error: Error) => void;
}

export class BackgroundAligner {
  private readonly size: number;
  private readonly worker: Worker | null = null;
  private readonly downscaler: FrameDownscaler | null = null;
  private geometry: CanvasGeometry | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: StackscopeError | null = null;
  private closed = false;

  constructor(mode: AlignMode, size = DEFAULT_ALIGN_SIZE) {
    this.size = size;
    if (mode === 'none') return;
    this.downscaler = new FrameDownscaler();
    // Started now, so the thread boots while the caller decodes the first frame.
    const workerData: EstimateWorkerData = { mode, size, background: backgroundWork() };
    this.worker = startWorker(new URL('./estimate-worker.js', import.meta.url), { workerData });
    this.worker.on('message', (reply: EstimateReply) => this.onReply(reply));
    this.worker.on('error', (error) => this.fail(`the alignment worker crashed: ${error.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the alignment worker exited unexpectedly (code ${code})`);
    });
  }

  get enabled(): boolean {
    return this.worker !== null;
  }

  /** The frame the others are aligned to; the worker has its small copy before any later request. */
  setReference(frame: Frame): void {
    if (!this.downscaler) return;
    this.geometry = canvasGeometry(frame.width, frame.height, this.size);
    const small = this.downscaler.downscale(frame, this.geometry);
    // Its reply carries nothing; a failure is kept, and the next align reports it.
    this.send({ op: 'reference', small, geometry: this.geometry }).catch((error: StackscopeError) => {
      this.failure ??= error;
    });
  }

  /** The reference itself, come to be stacked: no estimate, but the next frame's neighbour. */
  async alignReference(channels: number): Promise<CostedAlignment> {
    if (!this.geometry) return { ...unaligned(), costMs: 0 };
    const { result, ms } = await this.send({ op: 'alignReference', channels });
    return { ...(result ?? unaligned()), costMs: ms };
  }

  /** The transform of `frame` relative to the reference, and the warp to apply (null: none needed). */
  async align(frame: Frame): Promise<CostedAlignment> {
    if (!this.downscaler || !this.geometry) return { ...unaligned(), costMs: 0 };
    const t0 = performance.now();
    const small = this.downscaler.downscale(frame, this.geometry);
    const downscaleMs = performance.now() - t0;
    const { result, ms } = await this.send({ op: 'align', small });
    return { ...(result ?? unaligned()), costMs: downscaleMs + ms };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail('the alignment worker was closed');
    await this.worker?.terminate();
  }

  private send(request: EstimateRequest): Promise<{ result: AlignmentResult | null; ms: number }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // A small image is moved: its buffer is the worker's from now on.
    const moved = 'small' in request ? [request.small.lum.buffer as ArrayBuffer] : [];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ ...request, id }, moved);
    });
  }

  private onReply(reply: EstimateReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve({ result: reply.result, ms: reply.ms });
    else pending.reject(new StackscopeError('WORKER_FAILED', `alignment failed: ${reply.message}`));
  }

  private fail(message: string): void {
    this.failure ??= new StackscopeError('WORKER_FAILED', message);
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(this.failure);
    }
  }
}
