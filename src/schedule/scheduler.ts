// The timelapse scheduler: wakes at each schedule's cron times in its time zone and submits the run as
// an ordinary capture job, applying the rules of days-long series: busy rig, missed runs, failures, end.
//
//   timer ─► decideDue: on time → run │ missed while down → one catch-up or none; the rest one skip
//   run ─► rig busy? skip, or wait (≤ maxWaitMin; a newer run takes over) ─► re-home every N runs ─►
//          submitCapture(absolute planes, { schedule: { id, run } }) ─► job event ─► record ─► film
import { randomBytes } from 'node:crypto';
import type { Cron } from 'croner';
import type { Logger } from 'pino';
import { BadArgumentError, StackscopeError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { JobManager } from '../jobs/manager.js';
import type { FocusStage } from '../rig/types.js';
import type { JobStore } from '../store/job-store.js';
import { decideDue, occurrenceAfter, runRequest, upcoming } from './due.js';
import * as S from './schema.js';
import { mergeDeclared, type ScheduleStore } from './store.js';
import type { TimelapseBuilder } from './timelapse.js';
import { systemClock, waitForRig, type RigWait, type SchedulerClock } from './wait.js';

export { systemClock, type SchedulerClock } from './wait.js';

/** Longest sleep: each wake re-reads the wall clock, so a clock set late (no RTC on a Pi) is noticed. */
const MAX_SLEEP_MS = 60 * 60_000;

/** Proposed for events.ts's DaemonEvent, so the web page hears of schedules over /api/events. */
export interface ScheduleEvent {
  type: 'schedule';
  id: string;
  event: 'created' | 'updated' | 'deleted' | 'run' | 'run-finished' | 'skipped' | 'finished' | 'timelapse';
  run?: number;
  jobId?: string;
  status?: string;
  reason?: string;
}

export interface SchedulerDeps {
  jobs: Pick<JobManager, 'submitCapture' | 'running' | 'queuedCount' | 'idle'>;
  jobStore: Pick<JobStore, 'get'>;
  bus: Pick<EventBus, 'subscribe'>;
  stage: Pick<FocusStage, 'home' | 'position'>;
  store: ScheduleStore;
  timelapse?: Pick<TimelapseBuilder, 'addRun' | 'series' | 'settled'>;
  /** The configuration's `schedules`. */
  declared?: readonly S.DeclaredSchedule[];
  /** A limit switch is wired (rig.stage.limitSwitch): only then does rehomeEveryRuns home. */
  canHome?: boolean;
  clock?: SchedulerClock;
  logger?: Logger;
  onEvent?: (event: ScheduleEvent) => void;
}

export type ScheduleView = S.Schedule & {
  status: 'active' | 'paused' | 'finished';
  nextRuns: string[];
  runs: number;
  lastRun?: S.RunRecord & { at: string };
  /** A run due while the rig was busy has waited for it since this time. */
  waitingSince?: string;
  state: S.ScheduleState;
};

interface Live {
  record: S.ScheduleRecord;
  cron: Cron;
  timer?: unknown;
  wait?: RigWait;
}

export class Scheduler {
  private readonly d: SchedulerDeps;
  private readonly clock: SchedulerClock;
  private readonly lives = new Map<string, Live>();
  /** Jobs submitted by the scheduler and not finished: job id → schedule and run. */
  private readonly pending = new Map<string, { id: string; run: number }>();
  private readonly background = new Set<Promise<unknown>>();
  private unsubscribe: (() => void) | null = null;
  private startedAt = 0;
  private running = false;
  /** A run between its busy check and its job being queued: other schedules see the rig as taken. */
  private starting: string | null = null;

  constructor(deps: SchedulerDeps) {
    this.d = deps;
    this.clock = deps.clock ?? systemClock;
  }

  /** Restores the stored schedules, applies the configuration's, and arms every active one. */
  async start(): Promise<void> {
    const { store, logger } = this.d;
    await store.open();
    const { records, problems } = await store.loadAll();
    for (const p of problems) logger?.warn(p, `schedule file skipped: ${p.problem}`);
    const now = new Date(this.clock.now());
    const { merged, changed, orphaned } = mergeDeclared(records, this.d.declared ?? [], now);
    for (const id of orphaned)
      logger?.warn({ schedule: id }, `schedule ${id} left the configuration: paused`);
    for (const record of merged) {
      const live: Live = { record, cron: S.compileCron(record.schedule.cron, record.schedule.timezone) };
      this.lives.set(record.schedule.id, live);
      if (changed.has(record.schedule.id)) this.persist(live);
    }
    this.unsubscribe = this.d.bus.subscribe((event) => {
      if (event.type === 'job') this.onJobStatus(event.id, event.status);
    });
    this.startedAt = now.getTime();
    this.running = true;
    for (const live of this.lives.values()) await this.reconcile(live);
    for (const live of this.lives.values()) this.arm(live);
  }

  /** Disarms every timer, gives up waiting runs and lets in-flight writes and films finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    for (const live of this.lives.values()) {
      if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
      live.wait?.cancel('the daemon stopped while the run waited for the rig');
    }
    await this.whenSettled();
  }

  /** Resolves once no run is being started and every write and timelapse build has finished. */
  async whenSettled(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
    await this.d.store.settled();
    await this.d.timelapse?.settled();
  }

  list(): ScheduleView[] {
    return [...this.lives.values()]
      .sort((a, b) => a.record.schedule.createdAt.localeCompare(b.record.schedule.createdAt))
      .map((l) => this.view(l));
  }

  get(id: string): ScheduleView {
    return this.view(this.live(id));
  }

  async create(input: S.ScheduleCreate): Promise<ScheduleView> {
    const parsed = S.parseOrThrow(S.scheduleCreateSchema, input, 'schedule');
    const id = parsed.id ?? newId(parsed.name);
    if (this.lives.has(id))
      throw new BadArgumentError(`schedule ${id} exists: choose another id, or PATCH it`);
    const now = new Date(this.clock.now());
    const schedule = S.parseOrThrow(
      S.scheduleSchema,
      { ...parsed, id, createdAt: now.toISOString() },
      'schedule',
    );
    const cron = S.compileCron(schedule.cron, schedule.timezone);
    const live: Live = { record: { schedule, state: S.initialState('api', now) }, cron };
    this.lives.set(id, live);
    this.persist(live);
    this.arm(live);
    this.emit({ id, event: 'created' });
    return this.view(live);
  }

  /** Pause, resume or edit; the series goes on from now (nothing in between counts as missed). */
  async update(id: string, patch: S.SchedulePatch): Promise<ScheduleView> {
    const live = this.live(id);
    const changes = S.parseOrThrow(S.schedulePatchSchema, patch, `schedule ${id}`);
    const old = live.record.schedule;
    const merged: Record<string, unknown> = structuredClone(old);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete merged[key];
      else merged[key] = key === 'timelapse' ? { ...old.timelapse, ...(value as object) } : value;
    }
    const schedule = S.parseOrThrow(S.scheduleSchema, merged, `schedule ${id}`);
    const state = live.record.state;
    const now = this.clock.now();
    if (Date.parse(state.lastDueAt) < now) state.lastDueAt = new Date(now).toISOString();
    if ('stack' in changes) delete state.centreUm;
    if (['cron', 'timezone', 'endAt', 'maxRuns'].some((k) => k in changes)) {
      delete state.finishedAt;
      delete state.finishReason;
    }
    if (schedule.paused) live.wait?.cancel('the schedule was paused');
    live.record.schedule = schedule;
    live.cron = S.compileCron(schedule.cron, schedule.timezone);
    this.checkRunCount(live);
    this.persist(live);
    this.arm(live);
    this.emit({ id, event: 'updated' });
    return this.view(live);
  }

  /** Removes a schedule and its film; its jobs stay in the job store. */
  async delete(id: string): Promise<void> {
    const live = this.live(id);
    if (live.record.state.source === 'config')
      throw new BadArgumentError(
        `schedule ${id} is declared in the configuration file (schedules): remove it there, or pause it`,
      );
    if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
    this.lives.delete(id);
    live.wait?.cancel('the schedule was deleted');
    await this.d.timelapse?.settled();
    await this.d.store.remove(id);
    this.emit({ id, event: 'deleted' });
  }

  /** The next n run times (none while paused or finished), within endAt and maxRuns. */
  nextRuns(id: string, n: number): Date[] {
    const { schedule, state } = this.live(id).record;
    if (schedule.paused || state.finishedAt) return [];
    const left = schedule.maxRuns === undefined ? n : Math.min(n, schedule.maxRuns - state.runs);
    const from = new Date(Math.max(this.clock.now(), Date.parse(state.lastDueAt)));
    return upcoming(this.live(id).cron, schedule.endAt, from, left);
  }

  private live(id: string): Live {
    const live = this.lives.get(id);
    if (!live)
      throw new StackscopeError('NOT_FOUND', `no schedule with id ${JSON.stringify(id.slice(0, 70))}`);
    return live;
  }

  private view(live: Live): ScheduleView {
    const { schedule, state } = live.record;
    return {
      ...structuredClone(schedule),
      status: state.finishedAt ? 'finished' : schedule.paused ? 'paused' : 'active',
      nextRuns: this.nextRuns(schedule.id, 5).map((d) => d.toISOString()),
      runs: state.runs,
      ...(state.lastRun ? { lastRun: { ...state.lastRun, at: state.lastRun.startedAt } } : {}),
      ...(live.wait ? { waitingSince: live.wait.since } : {}),
      state: structuredClone(state),
    };
  }

  private arm(live: Live): void {
    if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
    live.timer = undefined;
    const { schedule, state } = live.record;
    if (!this.running || schedule.paused || state.finishedAt || this.lives.get(schedule.id) !== live) return;
    const next = occurrenceAfter(live.cron, schedule.endAt, new Date(state.lastDueAt));
    if (!next)
      return this.finish(
        live,
        schedule.endAt
          ? `no run is due before the end time ${schedule.endAt}`
          : 'the cron has no further time',
      );
    const delay = Math.max(0, next.getTime() - this.clock.now());
    live.timer = this.clock.setTimeout(() => this.tick(live), Math.min(delay, MAX_SLEEP_MS));
  }

  /** Deals with every occurrence up to now (one run at most), then sleeps until the next. */
  private tick(live: Live): void {
    live.timer = undefined;
    const { schedule, state } = live.record;
    const decision = decideDue({
      cron: live.cron,
      endAt: schedule.endAt,
      lastDueAt: new Date(state.lastDueAt),
      now: this.clock.now(),
      catchUp: schedule.catchUp,
      startedAt: this.startedAt,
    });
    if (decision) {
      state.lastDueAt = decision.latest.toISOString();
      const { skip } = decision;
      if (skip) this.recordSkip(live, skip.first, skip.reason, skip.count, skip.last);
      this.persist(live);
      if (decision.run) this.track(this.startRun(live, decision.latest, decision.catchUp));
    }
    this.arm(live);
  }

  private async startRun(live: Live, due: Date, catchUp: boolean): Promise<void> {
    const { schedule } = live.record;
    live.wait?.cancel(`the rig stayed busy until the next run was due (${due.toISOString()})`);
    const deadline = due.getTime() + schedule.maxWaitMin * 60_000;
    for (;;) {
      const busy = this.busyReason();
      if (busy && schedule.busyPolicy === 'skip') return this.recordSkip(live, due, `rig busy: ${busy}`);
      if (busy) {
        const wait = waitForRig({
          clock: this.clock,
          busy: () => this.busyReason(),
          idle: () => this.d.jobs.idle(),
          deadline,
          timeoutReason: (why) => `rig still busy after waiting ${schedule.maxWaitMin} min: ${why}`,
        });
        live.wait = wait;
        const outcome = await wait.outcome;
        if (live.wait === wait) live.wait = undefined;
        if (!outcome.free) return this.recordSkip(live, due, outcome.reason);
      }
      if (this.lives.get(schedule.id) !== live || !this.running) return;
      this.starting = `run of schedule ${schedule.id}`;
      try {
        if ((await this.submit(live, due, catchUp, deadline)) === 'done') return;
      } finally {
        this.starting = null;
      }
    }
  }

  /** Homes when due, submits the job; 'busy' when the rig was taken meanwhile and waiting may go on. */
  private async submit(live: Live, due: Date, catchUp: boolean, deadline: number): Promise<'done' | 'busy'> {
    const { schedule, state } = live.record;
    const run = state.runs + 1;
    const now = new Date(this.clock.now()).toISOString();
    const record: S.RunRecord = { run, dueAt: due.toISOString(), startedAt: now, status: 'queued' };
    if (catchUp) record.catchUp = true;
    try {
      if (schedule.rehomeEveryRuns > 0 && run > 1 && (run - 1) % schedule.rehomeEveryRuns === 0) {
        if (this.d.canHome) {
          await this.d.stage.home();
          record.homed = true;
        } else this.d.logger?.info({ schedule: schedule.id }, 'rehomeEveryRuns set without a limit switch');
      }
      const request = runRequest(schedule, run, () => (state.centreUm ??= this.d.stage.position().um));
      const job = await this.d.jobs.submitCapture(request, { schedule: { id: schedule.id, run } });
      record.jobId = job.id;
      this.pending.set(job.id, { id: schedule.id, run });
    } catch (error) {
      const code = error instanceof StackscopeError ? error.code : 'INTERNAL';
      // Taken by another job meanwhile (queueing off): wait again. Refused for any other reason (the
      // daemon stopping), it is a refused run, not a loop of retries.
      const taken = this.d.jobs.running() !== null || this.d.jobs.queuedCount() > 0;
      if (code === 'RIG_BUSY' && taken && schedule.busyPolicy === 'wait' && this.clock.now() < deadline)
        return 'busy';
      Object.assign(record, { status: 'refused', error: `${code}: ${(error as Error).message}` });
      state.runsFailed++;
      this.d.logger?.warn(
        { schedule: schedule.id, run, err: error },
        `schedule ${schedule.id} run ${run} refused`,
      );
    }
    state.runs = run;
    state.recentRuns.push(record);
    state.recentRuns.splice(0, Math.max(0, state.recentRuns.length - S.MAX_RECENT_RUNS));
    state.lastRun = { ...record };
    const { jobId, status, error: reason } = record;
    this.emit({ id: schedule.id, event: 'run', run, jobId, status, reason });
    this.checkRunCount(live);
    this.persist(live);
    return 'done';
  }

  private busyReason(): string | null {
    if (this.starting) return `the ${this.starting} is starting`;
    const running = this.d.jobs.running();
    const queued = this.d.jobs.queuedCount();
    if (running) return `job ${running.id} is ${running.status}${queued ? `, ${queued} more queued` : ''}`;
    return queued ? `${queued} job(s) queued` : null;
  }

  private onJobStatus(jobId: string, status: string): void {
    const tag = this.pending.get(jobId);
    const live = tag && this.lives.get(tag.id);
    const record = live?.record.state.recentRuns.find((r) => r.run === tag?.run);
    if (!live || !record) return;
    record.status = status as S.RunStatus;
    if (live.record.state.lastRun?.run === record.run) live.record.state.lastRun = { ...record };
    if (!S.FINAL_RUN_STATUSES.has(record.status)) return;
    this.pending.delete(jobId);
    this.track(this.settleRun(live, record));
  }

  /** A run's job has finished: count it, note why it failed, add a good result to the film. */
  private async settleRun(live: Live, record: S.RunRecord): Promise<void> {
    const { schedule, state } = live.record;
    if (record.status === 'done') state.runsDone++;
    else {
      state.runsFailed++;
      const job = record.jobId ? await this.d.jobStore.get(record.jobId).catch(() => null) : null;
      if (job?.error) record.error = `${job.error.code}: ${job.error.message}`;
      else if (job?.note) record.error = job.note;
    }
    if (state.lastRun?.run === record.run) state.lastRun = { ...record };
    this.persist(live);
    const { run, jobId, status, error: reason } = record;
    this.emit({ id: schedule.id, event: 'run-finished', run, jobId, status, reason });
    if (status === 'done') await this.addToFilm(live, record);
  }

  private async addToFilm(live: Live, record: S.RunRecord): Promise<void> {
    const { schedule } = live.record;
    if (!this.d.timelapse || !record.jobId) return;
    try {
      const { run, jobId, dueAt } = record;
      const added = await this.d.timelapse.addRun(schedule.id, schedule.timelapse, { run, jobId, dueAt });
      if (added.added) this.emit({ id: schedule.id, event: 'timelapse', run, jobId });
    } catch (error) {
      this.d.logger?.error({ schedule: schedule.id, err: error }, `timelapse ${schedule.id}: run not added`);
    }
  }

  /** After a restart: runs whose job was open learn how it ended; done runs missing from the film join it. */
  private async reconcile(live: Live): Promise<void> {
    const { schedule, state } = live.record;
    const series = await this.d.timelapse?.series(schedule.id);
    const inFilm = new Set(series?.entries.map((e) => e.run) ?? []);
    for (const record of state.recentRuns) {
      if (!record.jobId) continue;
      if (S.FINAL_RUN_STATUSES.has(record.status)) {
        if (record.status === 'done' && !inFilm.has(record.run)) this.track(this.addToFilm(live, record));
        continue;
      }
      const job = await this.d.jobStore.get(record.jobId).catch(() => null);
      this.pending.set(record.jobId, { id: schedule.id, run: record.run });
      this.onJobStatus(record.jobId, job ? job.status : 'lost');
    }
  }

  private checkRunCount(live: Live): void {
    const { schedule, state } = live.record;
    if (schedule.maxRuns !== undefined && state.runs >= schedule.maxRuns)
      this.finish(live, `maxRuns reached (${state.runs} of ${schedule.maxRuns})`);
  }

  private finish(live: Live, reason: string): void {
    const state = live.record.state;
    if (state.finishedAt) return;
    Object.assign(state, { finishedAt: new Date(this.clock.now()).toISOString(), finishReason: reason });
    if (live.timer !== undefined) this.clock.clearTimeout(live.timer);
    live.timer = undefined;
    this.persist(live);
    this.emit({ id: live.record.schedule.id, event: 'finished', reason });
  }

  private recordSkip(live: Live, due: Date, reason: string, count = 1, lastDue?: Date): void {
    const state = live.record.state;
    const at = new Date(this.clock.now()).toISOString();
    const last = lastDue ? { lastDueAt: lastDue.toISOString() } : {};
    state.skipped.push({ dueAt: due.toISOString(), ...last, count, at, reason });
    state.skipped.splice(0, Math.max(0, state.skipped.length - S.MAX_SKIP_RECORDS));
    state.skippedTotal += count;
    this.persist(live);
    this.emit({ id: live.record.schedule.id, event: 'skipped', reason });
  }

  private persist(live: Live): void {
    if (this.lives.get(live.record.schedule.id) !== live) return;
    this.track(this.d.store.save(live.record));
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) =>
      this.d.logger?.error({ err: error }, 'schedule task failed'),
    );
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private emit(event: Omit<ScheduleEvent, 'type'>): void {
    this.d.onEvent?.({ type: 'schedule', ...event });
  }
}

/** A readable, unique-enough id from the name: "Mould day 1" → mould-day-1-3f2a. */
function newId(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'schedule'}-${randomBytes(2).toString('hex')}`;
}
