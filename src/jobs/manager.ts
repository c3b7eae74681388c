// The job manager: one job at a time in submission order (the Pi has the CPU and memory for one
// stack), a bounded queue, cancellation, status in the store and on the event bus, the capture button.
import type { Logger } from 'pino';
import type { JobsFacade } from '../api/context.js';
import { StackscopeError } from '../errors.js';
import type { PressKind } from '../rig/types.js';
import { checkRoom, estimateJobBytes } from '../store/disk-space.js';
import { isFinished, type JobStatus, type Manifest } from '../store/manifest.js';
import { captureSettingsOf } from '../rig/capture-settings.js';
import { planFocusPositions } from './plan.js';
import type { CaptureRequest, RestackRequest, StackSettings } from './requests.js';
import { expectedFrameSize, runCapture, runOffline, type RunnerDeps } from './runners.js';

/** Extra facts recorded in a job's params, e.g. the schedule and run number of a timelapse stack. */
export interface JobTags {
  schedule?: { id: string; run: number };
}

type Run = (
  signal: AbortSignal,
  setStatus: (status: 'capturing' | 'stacking') => Promise<void>,
) => Promise<Partial<Manifest>>;

interface Pending {
  id: string;
  usesRig: boolean;
  run: Run;
}

interface Current extends Pending {
  status: JobStatus;
  controller: AbortController;
  done: Promise<void>;
}

/** How long the LED shows an error after a failed job before it goes back to idle. */
const ERROR_INDICATION_MS = 10_000;

export class JobManager implements JobsFacade {
  private readonly deps: RunnerDeps;
  private readonly logger?: Logger;
  private readonly pending: Pending[] = [];
  private current: Current | null = null;
  private stopping = false;
  /** Work that needs the rig idle and holds the queue meanwhile (a camera preview). */
  private holding: Promise<unknown> | null = null;
  private unsubscribeButton: (() => void) | null = null;
  private errorTimer: NodeJS.Timeout | null = null;

  constructor(deps: RunnerDeps & { logger?: Logger }) {
    this.deps = deps;
    this.logger = deps.logger;
  }

  start(): void {
    this.unsubscribeButton = this.deps.rig.button.onPress((kind) => void this.onButton(kind));
    this.deps.rig.indicator.show('idle');
  }

  /** Resolves once no job is running or queued (tests, schedules waiting for the rig). */
  async idle(): Promise<void> {
    while (this.current) await this.current.done;
  }

  running(): { id: string; status: string } | null {
    return this.current ? { id: this.current.id, status: this.current.status } : null;
  }

  queuedCount(): number {
    return this.pending.length;
  }

  /**
   * Runs `work` with the rig idle and keeps jobs from starting until it ends (a camera preview);
   * RIG_BUSY, naming the job, when one is running. Such work runs one at a time.
   */
  async whileIdle<T>(action: string, work: () => Promise<T>): Promise<T> {
    while (this.holding) await this.holding.catch(() => {});
    this.assertRigIdle(action);
    const running = work();
    this.holding = running;
    try {
      return await running;
    } finally {
      this.holding = null;
      this.pump();
    }
  }

  assertRigIdle(action: string): void {
    if (this.current?.usesRig)
      throw new StackscopeError(
        'RIG_BUSY',
        `cannot ${action}: job ${this.current.id} is ${this.current.status}`,
      );
  }

  /** Plans and checks everything a capture needs before the job exists, then queues it. */
  async submitCapture(request: CaptureRequest, tags: JobTags = {}): Promise<Manifest> {
    const { rig, store, config } = this.deps;
    this.checkQueue();
    const { stage } = rig;
    const z =
      'frames' in request
        ? { frames: request.frames, step: request.step }
        : { start: request.start, end: request.end, step: request.step };
    const planes = planFocusPositions(z, {
      currentUm: stage.position().um,
      limits: stage.limits,
      stepUm: stage.stepUm,
    });
    const { width, height } = expectedFrameSize(config, rig);
    const keepFrames = request.keepFrames ?? config.jobs.keepFrames;
    const encoding = captureSettingsOf(config.rig.camera, request.camera).encoding;
    await checkRoom(
      store.jobsDir,
      estimateJobBytes({ frames: planes.length, width, height, encoding, keepFrames }),
      config.jobs.reserveMb * 1e6,
      { what: `a ${planes.length}-frame stack`, statfs: (dir) => store.fs.statfs(dir) },
    );
    const job = await store.create({
      kind: 'capture',
      label: request.label,
      params: { ...request, planes, ...tags },
      total: planes.length,
    });
    this.enqueue({
      id: job.id,
      usesRig: true,
      run: (signal, setStatus) => runCapture(this.deps, job, planes, request, signal, setStatus),
    });
    return job;
  }

  /** Stacks a finished job's kept frames again with other settings, as a new job. */
  async submitRestack(sourceId: string, request: RestackRequest): Promise<Manifest> {
    const { store } = this.deps;
    const source = await store.get(sourceId);
    if (!isFinished(source.status))
      throw new StackscopeError(
        'JOB_ACTIVE',
        `job ${sourceId} is ${source.status}; restack it once it has finished`,
      );
    if (source.framesDeleted || source.frames.length < 2)
      throw new StackscopeError(
        'NOT_FOUND',
        `job ${sourceId} has ${source.framesDeleted ? 'no kept frames (retention removed them)' : `${source.frames.length} frame(s)`}; a restack needs 2 or more`,
      );
    this.checkQueue();
    const files = [...source.frames]
      .sort((a, b) => a.index - b.index)
      .map((f) => store.frameFile(sourceId, f.file));
    const job = await store.create({
      kind: 'restack',
      label: request.label ?? source.label,
      params: { stack: request.stack ?? {} },
      total: files.length,
      sourceJobId: sourceId,
    });
    this.enqueue({
      id: job.id,
      usesRig: false,
      run: (signal, setStatus) => runOffline(this.deps, job, files, request.stack ?? {}, signal, setStatus),
    });
    return job;
  }

  /** Queues an offline stack of frames already written into a job's frames/ (an upload). */
  submitUploaded(job: Manifest, files: string[], settings: StackSettings): void {
    this.checkQueue();
    this.enqueue({
      id: job.id,
      usesRig: false,
      run: (signal, setStatus) => runOffline(this.deps, job, files, settings, signal, setStatus),
    });
  }

  /** Cancels a queued or running job; resolves once it has stopped and is marked cancelled. */
  async cancel(id: string): Promise<Manifest> {
    const queued = this.pending.findIndex((p) => p.id === id);
    if (queued >= 0) {
      this.pending.splice(queued, 1);
      return this.finish(id, 'cancelled', { note: 'cancelled before it started' });
    }
    if (this.current?.id === id) {
      this.current.controller.abort(new StackscopeError('CANCELLED', 'cancelled by request'));
      await this.current.done;
      return this.deps.store.get(id);
    }
    const job = await this.deps.store.get(id);
    if (isFinished(job.status)) return job;
    // Unfinished in the store but unknown here: only recovery leaves such a job; settle it now.
    return this.finish(id, 'cancelled', { note: 'cancelled; it was not running' });
  }

  /** Stops taking jobs; the running one is stopped and marked interrupted (restackable), queued ones too. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribeButton?.();
    if (this.errorTimer) clearTimeout(this.errorTimer);
    for (const p of this.pending.splice(0))
      await this.finish(p.id, 'interrupted', { note: 'the daemon stopped before this job started' });
    if (this.current) {
      this.current.controller.abort(new StackscopeError('CANCELLED', 'the daemon is stopping'));
      await this.current.done;
    }
  }

  private checkQueue(): void {
    const { queue, maxQueued } = this.deps.config.jobs;
    if (this.stopping) throw new StackscopeError('RIG_BUSY', 'the daemon is stopping');
    if (!this.current) return;
    if (!queue)
      throw new StackscopeError(
        'RIG_BUSY',
        `job ${this.current.id} is ${this.current.status} and queueing is off (jobs.queue)`,
      );
    if (this.pending.length >= maxQueued)
      throw new StackscopeError('RIG_BUSY', `the queue is full (${maxQueued} jobs waiting, jobs.maxQueued)`);
  }

  private enqueue(pending: Pending): void {
    this.pending.push(pending);
    this.deps.bus.emit({ type: 'job', id: pending.id, status: 'queued' });
    this.pump();
  }

  private pump(): void {
    if (this.current || this.stopping || this.holding) return;
    const next = this.pending.shift();
    if (!next) return;
    const controller = new AbortController();
    const current: Current = { ...next, status: 'queued', controller, done: Promise.resolve() };
    this.current = current;
    current.done = this.execute(current)
      .catch((error: unknown) => this.statusNotSaved(current, error))
      .finally(() => {
        this.current = null;
        this.pump();
      });
  }

  /**
   * The job ended but its last status could not be written (disk full, I/O error). The daemon must
   * carry on: the job is failed in memory at once (GET shows it), and the store writes that again
   * until there is room; a restart before then finds it unfinished, and recovery interrupts it.
   */
  private async statusNotSaved(job: Current, error: unknown): Promise<void> {
    const message = (error as Error).message;
    this.logger?.error(
      { err: error, job: job.id },
      `job ${job.id} ended, but its status could not be saved: ${message}`,
    );
    const code = error instanceof StackscopeError ? error.code : 'INTERNAL';
    const failed = await this.deps.store
      .keepUnsaved(job.id, (m) => {
        m.status = 'failed';
        m.finishedAt ??= new Date().toISOString();
        m.error = { code, message: `the job ended, but its status could not be saved: ${message}` };
      })
      .catch(() => undefined);
    this.deps.bus.emit({ type: 'job', id: job.id, status: 'failed', progress: failed?.progress });
    this.showError();
  }

  private async execute(job: Current): Promise<void> {
    const { store, rig } = this.deps;
    const setStatus = async (status: 'capturing' | 'stacking') => {
      job.status = status;
      rig.indicator.show(status);
      this.deps.bus.emit({ type: 'job', id: job.id, status });
      await store.update(job.id, (m) => {
        m.status = status;
        m.startedAt ??= new Date().toISOString();
      });
    };
    try {
      const outcome = await job.run(job.controller.signal, setStatus);
      await this.finish(job.id, 'done', outcome);
      rig.indicator.show('idle');
    } catch (error) {
      const aborted = job.controller.signal.aborted;
      const reason = job.controller.signal.reason as StackscopeError | undefined;
      // Also a stop of the stage from outside (POST /api/stage/stop) mid-move: the user's own stop.
      const cancelled = error instanceof StackscopeError && error.code === 'CANCELLED';
      if (cancelled && aborted && this.stopping) {
        await this.finish(job.id, 'interrupted', { note: reason?.message ?? 'the daemon stopped' });
      } else if (cancelled) {
        const note = aborted
          ? (reason?.message ?? 'cancelled')
          : `the stage was stopped during the job: ${error.message}`;
        await this.finish(job.id, 'cancelled', { note });
      } else {
        const e =
          error instanceof StackscopeError
            ? { code: error.code, message: error.message }
            : { code: 'INTERNAL', message: (error as Error).message };
        this.logger?.error({ err: error, job: job.id }, `job ${job.id} failed: ${e.message}`);
        await this.finish(job.id, 'failed', { error: e });
        this.showError();
        return;
      }
      rig.indicator.show('idle');
    }
  }

  private async finish(id: string, status: JobStatus, changes: Partial<Manifest>): Promise<Manifest> {
    const job = await this.deps.store.update(id, (m) => {
      Object.assign(m, changes);
      m.status = status;
      m.finishedAt = new Date().toISOString();
    });
    this.deps.bus.emit({ type: 'job', id, status, progress: job.progress });
    return job;
  }

  private showError(): void {
    const { indicator } = this.deps.rig;
    indicator.show('error');
    if (this.errorTimer) clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      if (!this.current && indicator.state === 'error') indicator.show('idle');
    }, ERROR_INDICATION_MS);
    this.errorTimer.unref();
  }

  /** Short press: the configured default stack. Long press: cancel the running job, or home when idle. */
  private async onButton(kind: PressKind): Promise<void> {
    const { bus, rig, config } = this.deps;
    let action = '';
    try {
      if (kind === 'short') {
        const job = await this.submitCapture({ ...config.jobs.buttonStack, label: 'button' });
        action = `started job ${job.id}`;
      } else if (this.current) {
        action = `cancelled job ${this.current.id}`;
        await this.cancel(this.current.id);
      } else if (config.rig.stage.limitSwitch) {
        action = 'homing';
        await rig.stage.home();
      } else action = 'nothing (idle, no limit switch to home on)';
    } catch (error) {
      action = `refused: ${(error as Error).message}`;
      this.showError();
    }
    this.logger?.info({ button: kind, action }, `button ${kind} press: ${action}`);
    bus.emit({ type: 'button', kind, action });
  }
}
