// StepperBackend for a ULN2003 board driving a 28BYJ-48: the 8-phase half-step sequence on IN1–IN4,
// software-timed; the phase survives between moves, and the coils are all off when disabled.

import type { Uln2003DriverConfig } from '../../config/schema.js';
import type { StepperBackend, StepRun } from '../stage/backend.js';
import type { DigitalOut, Level } from './libraries.js';
import type { LimitSwitchInput } from './step-dir.js';
import { checkStepRequest, runSoftSteps, systemClock, type PulseClock } from './soft-timing.js';

/** Coil levels IN1–IN4 per half step: one coil, two, one, … Neighbouring phases differ in one coil. */
export const HALF_STEP_SEQUENCE: readonly (readonly Level[])[] = [
  [1, 0, 0, 0],
  [1, 1, 0, 0],
  [0, 1, 0, 0],
  [0, 1, 1, 0],
  [0, 0, 1, 0],
  [0, 0, 1, 1],
  [0, 0, 0, 1],
  [1, 0, 0, 1],
];
const OFF: readonly Level[] = [0, 0, 0, 0];

export interface Uln2003BackendOptions {
  driver: Uln2003DriverConfig;
  /** IN1–IN4, in order. */
  pins: readonly [DigitalOut, DigitalOut, DigitalOut, DigitalOut];
  limitSwitch?: LimitSwitchInput;
  library: 'onoff' | 'pigpio';
  clock?: PulseClock;
}

export class Uln2003Backend implements StepperBackend {
  readonly description: string;
  readonly hasLimitSwitch: boolean;
  readonly #options: Uln2003BackendOptions;
  readonly #clock: PulseClock;
  readonly #closing = new AbortController();
  /** Index into HALF_STEP_SEQUENCE of the phase the rotor sits at; kept so reversals do not skip. */
  #phase = 0;
  #levels: Level[] = [...OFF];
  #enabled = false;
  #running: Promise<StepRun> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: Uln2003BackendOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.hasLimitSwitch = options.limitSwitch !== undefined;
    const limit = options.limitSwitch ? `, limit switch ${options.limitSwitch.input.claim.bcm}` : '';
    this.description =
      `ULN2003 (28BYJ-48, half steps) on BCM ${options.pins.map((p) => p.claim.bcm).join('/')}${limit} ` +
      `via ${options.library} (software-timed)`;
    for (const pin of options.pins) pin.write(0);
  }

  /** The phase index 0–7 the motor holds (or will hold when enabled). */
  get phase(): number {
    return this.#phase;
  }

  /** Writes only the coils that change: one file write per half step with onoff. */
  #apply(levels: readonly Level[]): void {
    levels.forEach((level, i) => {
      if (this.#levels[i] !== level) this.#options.pins[i].write(level);
    });
    this.#levels = [...levels];
  }

  async setEnabled(on: boolean): Promise<void> {
    // Disabled means every coil off: a 28BYJ-48 held energised gets hot and draws ~240 mA for nothing.
    this.#apply(on ? HALF_STEP_SEQUENCE[this.#phase] : OFF);
    this.#enabled = on;
  }

  async step(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options: { untilLimit?: boolean } = {},
  ): Promise<StepRun> {
    checkStepRequest(
      this.description,
      {
        closed: Boolean(this.#closed),
        running: Boolean(this.#running),
        hasLimitSwitch: Boolean(this.#options.limitSwitch),
      },
      direction,
      options.untilLimit,
    );
    const { limitSwitch } = this.#options;
    const combined = AbortSignal.any([signal, this.#closing.signal]);
    if (combined.aborted || intervalsUs.length === 0) return { steps: 0, exact: true, hitLimit: false };
    if (!this.#enabled) await this.setEnabled(true);
    const delta = (direction === 1) !== this.#options.driver.invertDirection ? 1 : -1;
    this.#running = runSoftSteps({
      clock: this.#clock,
      intervalsUs,
      signal: combined,
      startUs: this.#clock.nowUs(),
      // No DIR line: the rotor already holds the current phase, so step 0 may come at intervalsUs[0].
      firstStepMinUs: 0,
      limitActive:
        options.untilLimit && limitSwitch
          ? () => limitSwitch.input.read() === (limitSwitch.activeLow ? 0 : 1)
          : undefined,
      issueStep: () => {
        this.#phase = (this.#phase + delta + 8) % 8;
        this.#apply(HALF_STEP_SEQUENCE[this.#phase]);
      },
    });
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  /** Closing twice waits for the first close. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing.abort();
    await this.#running?.catch(() => undefined);
    await this.setEnabled(false);
    for (const pin of this.#options.pins) pin.close();
    this.#options.limitSwitch?.input.close();
  }
}
