// The simulated rig's focus motor: a StepperBackend whose steps take the time their intervals say, with a
// carriage that follows the motor through backlash play and an optional limit switch, for homing tests.
import { StackscopeError } from '../../errors.js';
import type { StepperBackend, StepRun } from '../stage/backend.js';

export interface SimulatedMotorOptions {
  stepsPerMm: number;
  /** Backlash play between motor and focus carriage, µm. Default 5. */
  playUm?: number;
  /** 1 runs steps in real time, 100 a hundred times faster. Default 1. */
  timeScale?: number;
  /** A limit switch on the min side, active while the carriage is at or below this position, µm. */
  limitSwitchAtUm?: number;
  /** Where motor and carriage start, µm (the carriage resting on the motor's upward side). Default 0. */
  startUm?: number;
}

const DEFAULT_PLAY_UM = 5;
/**
 * Steps are released in batches of at least this much real time: one timer per step would mean
 * thousands of timers per second at real speed, which is neither needed nor kind to the event loop.
 */
const BATCH_MS = 10;
/** Float slack when comparing the carriage with the switch, far below a microstep. */
const SWITCH_EPSILON_UM = 1e-9;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

export class SimulatedMotor implements StepperBackend {
  readonly description: string;
  readonly hasLimitSwitch: boolean;
  readonly stepUm: number;
  readonly playUm: number;
  private readonly timeScale: number;
  private readonly limitSwitchAtUm: number | undefined;
  private steps: number;
  private carriage: number;
  private enabled = false;
  private running = false;
  private closed = false;

  constructor(options: SimulatedMotorOptions) {
    const { stepsPerMm, playUm = DEFAULT_PLAY_UM, timeScale = 1, limitSwitchAtUm, startUm = 0 } = options;
    if (!(stepsPerMm > 0 && Number.isFinite(stepsPerMm))) {
      throw new StackscopeError('BAD_ARGUMENT', `stepsPerMm must be a finite number > 0, got ${stepsPerMm}`);
    }
    if (!(playUm >= 0 && Number.isFinite(playUm))) {
      throw new StackscopeError('BAD_ARGUMENT', `playUm must be a finite number ≥ 0, got ${playUm}`);
    }
    if (!(timeScale > 0 && Number.isFinite(timeScale))) {
      throw new StackscopeError('BAD_ARGUMENT', `timeScale must be a finite number > 0, got ${timeScale}`);
    }
    this.stepUm = 1000 / stepsPerMm;
    this.playUm = playUm;
    this.timeScale = timeScale;
    this.limitSwitchAtUm = limitSwitchAtUm;
    this.hasLimitSwitch = limitSwitchAtUm !== undefined;
    this.steps = Math.round(startUm / this.stepUm);
    this.carriage = this.steps * this.stepUm;
    const switchText = this.hasLimitSwitch ? `, limit switch at ${limitSwitchAtUm} µm` : '';
    this.description = `simulated stepper (${stepsPerMm} steps/mm, ${playUm} µm play${switchText}, ${timeScale}× time)`;
  }

  /** Where the focus really is, µm: what the simulated camera renders. */
  carriageUm(): number {
    return this.carriage;
  }

  motorSteps(): number {
    return this.steps;
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  limitActive(): boolean {
    return this.limitSwitchAtUm !== undefined && this.carriage <= this.limitSwitchAtUm + SWITCH_EPSILON_UM;
  }

  async setEnabled(on: boolean): Promise<void> {
    this.enabled = on;
  }

  async step(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options: { untilLimit?: boolean } = {},
  ): Promise<StepRun> {
    if (this.closed) throw new StackscopeError('GPIO_UNAVAILABLE', 'the simulated motor is closed');
    if (this.running)
      throw new StackscopeError('STAGE_BUSY', 'the simulated motor is already running a move');
    this.running = true;
    try {
      return await this.run(direction, intervalsUs, signal, options.untilLimit ?? false);
    } finally {
      this.running = false;
    }
  }

  async close(): Promise<void> {
    this.enabled = false;
    this.closed = true;
  }

  /**
   * Steps are applied when their scheduled time (their interval sum, scaled) has passed on the clock,
   * checked whenever a batch timer fires or the signal aborts, so an abort counts exactly the steps
   * that were due by then.
   */
  private async run(direction: 1 | -1, intervals: Uint32Array, signal: AbortSignal, untilLimit: boolean) {
    const startMs = performance.now();
    const usPerMs = 1000 * this.timeScale;
    const totalUs = intervals.reduce((sum, us) => sum + us, 0);
    let done = 0;
    let dueUs = 0;
    let hitLimit = untilLimit && this.limitActive();

    while (!hitLimit && done < intervals.length) {
      const elapsedUs = (performance.now() - startMs) * usPerMs;
      while (done < intervals.length && dueUs + intervals[done] <= elapsedUs) {
        dueUs += intervals[done];
        this.applyStep(direction);
        done++;
        if (untilLimit && this.limitActive()) {
          hitLimit = true;
          break;
        }
      }
      if (hitLimit || done === intervals.length || signal.aborted) break;
      const toNextMs = (dueUs + intervals[done] - elapsedUs) / usPerMs;
      const toEndMs = (totalUs - elapsedUs) / usPerMs;
      await sleep(Math.max(toNextMs, Math.min(BATCH_MS, toEndMs)), signal);
    }
    return { steps: done, exact: true, hitLimit };
  }

  /**
   * A disabled driver ignores STEP pulses, as a real one does: the stage then loses steps, which is
   * the failure a missing setEnabled(true) causes on hardware and should cause here too.
   *
   * Play model: moving up, the motor pushes the carriage once it touches it (carriage = motor);
   * moving down, the motor first crosses the play, then pulls the carriage (carriage = motor + play).
   */
  private applyStep(direction: 1 | -1): void {
    if (!this.enabled) return;
    this.steps += direction;
    const motorUm = this.steps * this.stepUm;
    this.carriage =
      direction > 0 ? Math.max(this.carriage, motorUm) : Math.min(this.carriage, motorUm + this.playUm);
  }
}
