// Stand-ins for the scheduler's collaborators: a job manager whose busy state and job outcomes the
// test sets, a job store answering with those outcomes, a stage that counts homings, and a clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackscopeError } from '../../src/errors.js';
import { EventBus } from '../../src/events.js';
import type { CaptureRequest } from '../../src/jobs/requests.js';
import { Scheduler, type ScheduleEvent, type SchedulerDeps } from '../../src/schedule/scheduler.js';
import { ScheduleStore } from '../../src/schedule/store.js';
import type { SchedulerClock } from '../../src/schedule/wait.js';
import type { Manifest } from '../../src/store/manifest.js';

export interface Submission {
  request: CaptureRequest;
  tags: { schedule?: { id: string; run: number } };
  /** Wall-clock time of the submission (the fake or manual clock's). */
  at: number;
  id: string;
}

export class FakeJobs {
  readonly submitted: Submission[] = [];
  current: { id: string; status: string } | null = null;
  queued = 0;
  /** The next submissions throw this (one per entry). */
  refusals: StackscopeError[] = [];
  private waiters: (() => void)[] = [];
  private count = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  running() {
    return this.current;
  }

  queuedCount() {
    return this.queued;
  }

  idle(): Promise<void> {
    return this.current ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  async submitCapture(request: CaptureRequest, tags: Submission['tags'] = {}): Promise<Manifest> {
    const refusal = this.refusals.shift();
    if (refusal) throw refusal;
    const id = `job-${++this.count}`;
    this.submitted.push({ request, tags, at: this.now(), id });
    return { id, status: 'queued' } as Manifest;
  }

  busy(id = 'other-job', status = 'capturing'): void {
    this.current = { id, status };
  }

  free(): void {
    this.current = null;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Job outcomes as the job store reports them; unknown ids are NOT_FOUND. */
export class FakeJobStore {
  readonly jobs = new Map<string, Partial<Manifest>>();

  async get(id: string): Promise<Manifest> {
    const job = this.jobs.get(id);
    if (!job) throw new StackscopeError('NOT_FOUND', `no job ${id}`);
    return { id, ...job } as Manifest;
  }
}

export class FakeStage {
  homings = 0;
  um = 1000;
  position() {
    return { um: this.um, steps: 0, certain: true };
  }
  async home() {
    this.homings++;
    return this.position();
  }
}

/** A wall clock and timers that move only when the test says so (the rig keeps real time). */
export class ManualClock implements SchedulerClock {
  private t: number;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextHandle = 1;

  constructor(startIso: string) {
    this.t = Date.parse(startIso);
  }

  now(): number {
    return this.t;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.t + Math.max(0, ms), callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing every timer due on the way in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].callback();
    }
    this.t = end;
  }
}

export interface Harness {
  dir: string;
  jobs: FakeJobs;
  jobStore: FakeJobStore;
  stage: FakeStage;
  bus: EventBus;
  events: ScheduleEvent[];
  make(extra?: Partial<SchedulerDeps>): Scheduler;
  cleanup(): Promise<void>;
}

/** A data folder and fakes; make() builds a scheduler over them (again, for a "restart"). */
export async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'stackscope-schedule-'));
  const jobs = new FakeJobs();
  const jobStore = new FakeJobStore();
  const stage = new FakeStage();
  const bus = new EventBus();
  const events: ScheduleEvent[] = [];
  const made: Scheduler[] = [];
  return {
    dir,
    jobs,
    jobStore,
    stage,
    bus,
    events,
    make(extra = {}) {
      const scheduler = new Scheduler({
        jobs,
        jobStore,
        bus,
        stage,
        store: new ScheduleStore({ dataDir: dir }),
        onEvent: (e) => events.push(e),
        ...extra,
      });
      made.push(scheduler);
      return scheduler;
    },
    async cleanup() {
      for (const s of made) await s.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Local wall time of an instant in a zone, "YYYY-MM-DD HH:MM". */
export function localTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}
