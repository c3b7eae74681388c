// The focus stage on a stepper motor: µm targets become whole steps, checked against the soft limits,
// approached upwards to take up backlash, one move at a time, persisted, stoppable, homed at a switch.
import type { Logger } from 'pino';
import type { StageConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import type { FocusStage, MoveOptions, StageEvent, StageLimits, StagePosition } from '../types.js';
import type { StepperBackend, StepRun } from './backend.js';
import { planHoming, planStepIntervals, type RampProfile } from './planner.js';
import { PositionStore, type PositionFs, type RestoredPosition } from './position-store.js';

export interface StepperStageOptions {
  backend: StepperBackend;
  config: StageConfig;
  /** JSON file keeping the position across restarts; absent: the position starts uncertain at 0. */
  statePath?: string;
  logger?: Logger;
  now?: () => number;
  /** The position file's file system calls (tests count or fail them); default node:fs/promises. */
  positionFs?: PositionFs;
}

const ACTION = 'home the stage or set its position';
const formatUm = (um: number) => String(Number(um.toFixed(4)));

interface ActiveMove {
  controller: AbortController;
  done: Promise<void>;
}

export class StepperStage implements FocusStage {
  readonly limits: StageLimits;
  readonly stepUm: number;
  private readonly backend: StepperBackend;
  private readonly config: StageConfig;
  private readonly store: PositionStore | undefined;
  private readonly logger: Logger | undefined;
  private readonly minSteps: number;
  private readonly maxSteps: number;
  private readonly backlashSteps: number;
  private readonly listeners = new Set<(event: StageEvent) => void>();
  private steps = 0;
  private certain = false;
  private uncertainReason: string | undefined;
  private active: ActiveMove | undefined;
  private enabled = false;
  private closed = false;

  /** Prefer StepperStage.open, which also restores the saved position. */
  constructor(options: StepperStageOptions) {
    const { backend, config, statePath, logger, now, positionFs } = options;
    this.backend = backend;
    this.config = config;
    this.logger = logger;
    this.store = statePath === undefined ? undefined : new PositionStore(statePath, { now, fs: positionFs });
    this.stepUm = 1000 / config.stepsPerMm;
    this.limits = Object.freeze({ minUm: config.minUm, maxUm: config.maxUm });
    // A limit that is not a whole number of steps admits only the steps strictly inside it.
    this.minSteps = Math.ceil(config.minUm / this.stepUm - 1e-9);
    this.maxSteps = Math.floor(config.maxUm / this.stepUm + 1e-9);
    if (this.minSteps > this.maxSteps) {
      throw new StackscopeError(
        'CONFIG_INVALID',
        `stage.minUm ${config.minUm} and stage.maxUm ${config.maxUm} µm leave no whole step of ${formatUm(this.stepUm)} µm between them`,
      );
    }
    this.backlashSteps = Math.round(config.backlashUm / this.stepUm);
    this.uncertainReason = this.store
      ? `the saved position was not loaded (use StepperStage.open); ${ACTION}`
      : `no saved position (no state file configured); ${ACTION}`;
  }

  static async open(options: StepperStageOptions): Promise<StepperStage> {
    const stage = new StepperStage(options);
    if (stage.store) stage.restore(await stage.store.load());
    return stage;
  }

  position(): StagePosition {
    const um = Number((this.steps * this.stepUm).toFixed(6));
    return this.certain
      ? { um, steps: this.steps, certain: true }
      : { um, steps: this.steps, certain: false, uncertainReason: this.uncertainReason };
  }

  moveTo(um: number, options?: MoveOptions): Promise<StagePosition> {
    return this.request(() => this.targetSteps(um, `target ${um} µm`), options);
  }

  moveBy(deltaUm: number, options?: MoveOptions): Promise<StagePosition> {
    return this.request(() => {
      const fromUm = this.position().um;
      const what = Number.isFinite(deltaUm)
        ? `moveBy(${deltaUm} µm) from ${fromUm} µm ends at ${formatUm(fromUm + deltaUm)} µm, which`
        : `moveBy(${deltaUm} µm) from ${fromUm} µm`;
      return this.targetSteps(this.steps * this.stepUm + deltaUm, what);
    }, options);
  }

  async home(options?: MoveOptions): Promise<StagePosition> {
    this.assertIdle();
    const sw = this.config.limitSwitch;
    if (!sw || !this.backend.hasLimitSwitch) {
      const missing = !sw
        ? 'stage.limitSwitch is not configured'
        : `${this.backend.description} has no limit switch`;
      throw new StackscopeError('STAGE_NO_HOMING', `homing needs a limit switch, but ${missing}`);
    }
    const plan = planHoming(this.config, sw.side);
    const where = `the limit switch (${sw.side} side, at ${sw.atUm} µm)`;
    const searchedUm = formatUm(plan.travelUm + plan.marginUm);

    return this.exclusive(this.position().um, sw.atUm, options, async (signal) => {
      const search = await this.run(plan.toward, plan.searchSteps, plan.fast, signal, true);
      if (signal.aborted) return;
      if (!search.hitLimit) {
        this.failHoming(
          `${where} did not trigger within ${searchedUm} µm of travel (maxUm − minUm = ` +
            `${formatUm(plan.travelUm)} µm plus a ${formatUm(plan.marginUm)} µm margin); check its wiring and stage.limitSwitch`,
        );
      }
      await this.run(plan.toward === 1 ? -1 : 1, plan.backoffSteps, plan.fast, signal);
      if (signal.aborted) return;
      const approach = await this.run(plan.toward, plan.approachSteps, plan.slow, signal, true);
      if (signal.aborted) return;
      if (!approach.hitLimit) {
        this.failHoming(
          `${where} triggered, but not again within ${formatUm(plan.approachSteps * this.stepUm)} µm after backing off`,
        );
      }
      // The switch trips on the carriage, reached towards the switch, with the motor the play behind it:
      // targets approached upwards later land up to the play off their nominal µm. That offset is the
      // same for every target, so a stack's frames still lie exactly the planned steps apart.
      this.steps = Math.round(sw.atUm / this.stepUm);
      this.certain = true;
      this.uncertainReason = undefined;
    });
  }

  /** Declares where the stage is (e.g. read off the knob), making the position certain. */
  async setPosition(um: number): Promise<StagePosition> {
    this.assertIdle();
    this.steps = this.targetSteps(um, `position ${um} µm`);
    this.certain = true;
    this.uncertainReason = undefined;
    await this.store?.saveAt(this.position());
    return this.position();
  }

  async stop(): Promise<void> {
    const move = this.active;
    if (!move) return;
    move.controller.abort();
    await move.done;
  }

  onEvent(listener: (event: StageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    try {
      await this.store?.saveAt(this.position());
    } catch (error) {
      this.logger?.error({ err: error }, 'could not save the stage position on close');
    }
    await this.backend.close();
  }

  private restore(saved: RestoredPosition): void {
    this.steps = Math.round(saved.um / this.stepUm);
    this.certain = saved.certain;
    this.uncertainReason = saved.certain ? undefined : saved.uncertainReason;
    if (this.steps < this.minSteps || this.steps > this.maxSteps) {
      this.logger?.warn(
        { um: saved.um, limits: this.limits },
        'the saved position is outside the soft limits',
      );
    }
  }

  /** Validates synchronously (a refused request moves nothing), then runs the move. */
  private async request(target: () => number, options?: MoveOptions): Promise<StagePosition> {
    this.assertIdle();
    const to = target();
    const from = this.steps;
    const fromUm = this.position().um;
    return this.exclusive(fromUm, Number((to * this.stepUm).toFixed(6)), options, async (signal) => {
      if (to >= from) {
        await this.run(1, to - from, this.config, signal);
        return;
      }
      // Downwards: overshoot by the backlash, then come back up, so every target is reached upwards.
      // Near minUm the overshoot stops at the limit. That is still safe: the motor never passes minUm,
      // and the carriage trails a descending motor by the play, above it, so it does not either. The cost
      // is accuracy, not safety: less play is taken up, leaving the focus up to that much above the target.
      const overshoot = Math.max(to - this.backlashSteps, this.minSteps);
      await this.run(-1, from - overshoot, this.config, signal);
      await this.run(1, to - overshoot, this.config, signal);
    });
  }

  /** Whole steps for a target in µm; throws STAGE_LIMIT (never clamps) when it is outside the limits. */
  private targetSteps(um: number, what: string): number {
    const { minUm, maxUm } = this.config;
    const limits = `the soft limits ${minUm}–${maxUm} µm (stage.minUm–stage.maxUm)`;
    if (!Number.isFinite(um)) {
      throw new StackscopeError(
        'STAGE_LIMIT',
        `${what} is not a finite number; targets must lie within ${limits}; refused, nothing moved`,
      );
    }
    const slackUm = this.stepUm * 1e-6; // float noise of steps × stepUm, not a tolerance on requests
    if (um < minUm - slackUm || um > maxUm + slackUm) {
      throw new StackscopeError('STAGE_LIMIT', `${what} is outside ${limits}; refused, nothing moved`);
    }
    // Rounding to the nearest step may cross a limit that is not a whole number of steps: the nearest
    // step inside it is then the rounding, not a clamp of an out-of-range request.
    return Math.min(this.maxSteps, Math.max(this.minSteps, Math.round(um / this.stepUm)));
  }

  private assertIdle(): void {
    if (this.closed) throw new StackscopeError('STAGE_BUSY', 'the stage is closed; no more moves');
    if (this.active) {
      throw new StackscopeError(
        'STAGE_BUSY',
        'the stage is already moving; stop it or wait for the move to end',
      );
    }
  }

  /** One move at a time: records it, energises the motor, runs `body`, then settles state and events. */
  private async exclusive(
    fromUm: number,
    toUm: number,
    options: MoveOptions | undefined,
    body: (signal: AbortSignal) => Promise<void>,
  ): Promise<StagePosition> {
    const external = options?.signal;
    if (external?.aborted) throw new StackscopeError('CANCELLED', 'the move was cancelled before it started');
    const controller = new AbortController();
    let finished!: () => void;
    this.active = { controller, done: new Promise<void>((resolve) => (finished = resolve)) };
    const forwardAbort = () => controller.abort();
    external?.addEventListener('abort', forwardAbort, { once: true });
    let started = false;
    let outcome: 'done' | 'stopped' | 'failed' = 'failed';
    try {
      await this.store?.saveMoving(fromUm, toUm);
      started = true;
      this.emit({ type: 'move-start', fromUm, toUm });
      if (!this.enabled) {
        await this.backend.setEnabled(true);
        this.enabled = true;
      }
      await body(controller.signal);
      if (controller.signal.aborted) {
        outcome = 'stopped';
        throw new StackscopeError(
          'CANCELLED',
          `the move from ${fromUm} to ${toUm} µm was stopped at ${this.position().um} µm`,
        );
      }
      outcome = 'done';
      this.logger?.debug({ fromUm, toUm, position: this.position() }, 'stage move done');
      return this.position();
    } finally {
      external?.removeEventListener('abort', forwardAbort);
      await this.release();
      this.active = undefined;
      finished();
      if (started) {
        if (outcome === 'done') this.emit({ type: 'move-end', position: this.position() });
        if (outcome === 'stopped') this.emit({ type: 'stopped', position: this.position() });
        // A failed write leaves the "moving" record: the next start then says the position is uncertain.
        const logFailure = (error: unknown) => {
          this.logger?.error({ err: error }, 'could not save the stage position after a move');
        };
        // Where a normal move ended is saved lazily: in a stack the next move's "moving" record
        // replaces it, so each step costs one durable write, not two. A stop is saved at once.
        if (outcome === 'done') void this.store?.saveAtLater(this.position()).catch(logFailure);
        else await this.store?.saveAt(this.position()).catch(logFailure);
      }
    }
  }

  private async release(): Promise<void> {
    if (!this.config.disableWhenIdle || !this.enabled) return;
    try {
      await this.backend.setEnabled(false);
      this.enabled = false;
    } catch (error) {
      this.logger?.error({ err: error }, 'could not disable the stepper driver');
    }
  }

  /** One step run; the position follows the steps the backend reports as done. */
  private async run(
    direction: 1 | -1,
    steps: number,
    profile: RampProfile,
    signal: AbortSignal,
    untilLimit = false,
  ): Promise<StepRun> {
    if (steps <= 0 || signal.aborted) return { steps: 0, exact: true, hitLimit: false };
    let result: StepRun;
    try {
      result = await this.backend.step(direction, planStepIntervals(steps, profile), signal, { untilLimit });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.markUncertain(`${this.backend.description} failed during a move (${message})`);
      throw error;
    }
    this.steps += direction * result.steps;
    if (!result.exact) {
      this.markUncertain(
        `a move was cut short and ${this.backend.description} could not count the steps it issued`,
      );
    }
    return result;
  }

  private failHoming(message: string): never {
    this.markUncertain(`homing failed: ${message}`);
    throw new StackscopeError('HOMING_FAILED', message);
  }

  private markUncertain(reason: string): void {
    this.certain = false;
    this.uncertainReason = `${reason}; ${ACTION}`;
  }

  private emit(event: StageEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger?.error({ err: error, event: event.type }, 'a stage event listener threw');
      }
    }
  }
}
