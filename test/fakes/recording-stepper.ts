// A StepperBackend for tests that records everything it is told: enable calls, each step run, and the
// motor position after every single step, so tests can check step streams and positions at any instant.
import type { StepperBackend, StepRun } from '../../src/rig/stage/backend.js';

export type RecordedCall =
  | { kind: 'enable'; on: boolean }
  | { kind: 'step'; direction: 1 | -1; intervals: Uint32Array; untilLimit: boolean; run?: StepRun };

export interface RecordingStepperOptions {
  startSteps?: number;
  /** Steps issued per event-loop turn (setImmediate) — lets tests stop a move part-way. Default: all at once. */
  stepsPerTick?: number;
  /** A limit switch active while the position is at or beyond this many steps, on `limitSide`. */
  limitAtSteps?: number;
  /** Default 'min': active at or below limitAtSteps. */
  limitSide?: 'min' | 'max';
  /** Pretend a switch is wired even without limitAtSteps (it then never triggers). */
  hasLimitSwitch?: boolean;
}

type StepCall = Extract<RecordedCall, { kind: 'step' }>;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

export class RecordingStepper implements StepperBackend {
  readonly description = 'recording test stepper';
  readonly hasLimitSwitch: boolean;
  readonly calls: RecordedCall[] = [];
  /** The position after every step ever issued, in order. */
  readonly trace: number[] = [];
  position: number;
  enabled = false;
  closed = false;
  /** Set to false to make runs report an inexact step count, as a cut-short DMA wave does. */
  exact = true;
  /** Set to make the next step() call throw, as a failing driver would. */
  failNext: Error | undefined;
  /**
   * Set to hold a run before its first step until the returned promise resolves or the run is aborted
   * (a move "in flight", or a run that never ends, as when the process is killed).
   */
  gate: ((call: StepCall) => Promise<void> | undefined) | undefined;
  private readonly stepsPerTick: number;
  private readonly limitAtSteps: number | undefined;
  private readonly limitSide: 'min' | 'max';

  constructor(options: RecordingStepperOptions = {}) {
    this.position = options.startSteps ?? 0;
    this.stepsPerTick = options.stepsPerTick ?? Number.POSITIVE_INFINITY;
    this.limitAtSteps = options.limitAtSteps;
    this.limitSide = options.limitSide ?? 'min';
    this.hasLimitSwitch = options.hasLimitSwitch ?? options.limitAtSteps !== undefined;
  }

  stepCalls(): StepCall[] {
    return this.calls.filter((c): c is StepCall => c.kind === 'step');
  }

  limitActive(): boolean {
    if (this.limitAtSteps === undefined) return false;
    return this.limitSide === 'min' ? this.position <= this.limitAtSteps : this.position >= this.limitAtSteps;
  }

  async setEnabled(on: boolean): Promise<void> {
    this.calls.push({ kind: 'enable', on });
    this.enabled = on;
  }

  async step(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options: { untilLimit?: boolean } = {},
  ): Promise<StepRun> {
    const call: StepCall = {
      kind: 'step',
      direction,
      intervals: intervalsUs,
      untilLimit: options.untilLimit ?? false,
    };
    this.calls.push(call);
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    const held = this.gate?.(call);
    if (held) await Promise.race([held, aborted(signal)]);
    let done = 0;
    let hitLimit = call.untilLimit && this.limitActive();
    while (!hitLimit && done < intervalsUs.length && !signal.aborted) {
      const end = Math.min(intervalsUs.length, done + this.stepsPerTick);
      for (; done < end; done++) {
        this.position += direction;
        this.trace.push(this.position);
        if (call.untilLimit && this.limitActive()) {
          hitLimit = true;
          done++;
          break;
        }
      }
      if (done < intervalsUs.length && !hitLimit) await nextTurn();
    }
    call.run = { steps: done, exact: this.exact, hitLimit };
    return call.run;
  }

  async close(): Promise<void> {
    this.enabled = false;
    this.closed = true;
  }
}
