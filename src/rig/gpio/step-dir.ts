// StepperBackend for STEP/DIR drivers (A4988, DRV8825, TMC2209): EN active low, DIR set with its setup
// time before the first step, pulses from pigpio waves (DMA-timed) or software timing (onoff or pigpio pins).

import type { StepDirDriverConfig } from '../../config/schema.js';
import type { StepperBackend, StepRun } from '../stage/backend.js';
import type { DigitalIn, DigitalOut, PigpioLike } from './libraries.js';
import { planStepWaves, runWaveBatches, type PulseTiming } from './pigpio-waves.js';
import { checkStepRequest, runSoftSteps, systemClock, type PulseClock } from './soft-timing.js';

/**
 * The drivers want STEP high ≥ 1 µs (A4988), ≥ 1.9 µs (DRV8825), ≥ 0.1 µs (TMC2209), and DIR stable
 * 0.2 / 0.65 / 0.02 µs before the edge; pigpio is accurate to a few µs, so both get generous margins.
 */
export const STEP_DIR_TIMING: PulseTiming = { stepHighUs: 5, dirSetupUs: 10 };

export interface LimitSwitchInput {
  input: DigitalIn;
  activeLow: boolean;
}

export interface StepDirPins {
  step: DigitalOut;
  dir: DigitalOut;
  /** EN, active low on all three drivers; absent: the driver is wired always on. */
  enable?: DigitalOut;
}

export interface StepDirBackendOptions {
  driver: StepDirDriverConfig;
  pins: StepDirPins;
  limitSwitch?: LimitSwitchInput;
  /**
   * 'software' times pulses on the main thread (pins from onoff or pigpio); { pigpio } sends DMA
   * waveforms, except for untilLimit runs, which go software-timed over the same pins so the switch is
   * read before every step (a DMA wave cannot look at it; homing is slow enough for software timing).
   */
  engine: 'software' | { pigpio: PigpioLike };
  /** Which library drives the pins, for the description. */
  library: 'onoff' | 'pigpio';
  clock?: PulseClock;
}

export class StepDirBackend implements StepperBackend {
  readonly description: string;
  readonly hasLimitSwitch: boolean;
  readonly #options: StepDirBackendOptions;
  readonly #clock: PulseClock;
  readonly #closing = new AbortController();
  #enabled: boolean;
  #running: Promise<StepRun> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: StepDirBackendOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const { driver, pins, limitSwitch, engine, library } = options;
    this.hasLimitSwitch = limitSwitch !== undefined;
    // EN comes opened high (pi-rig does so): the motor stays released until something asks.
    this.#enabled = !pins.enable;
    const wiring = [
      `BCM ${pins.step.claim.bcm}/${pins.dir.claim.bcm}`,
      pins.enable ? `EN ${pins.enable.claim.bcm}` : undefined,
      limitSwitch ? `limit switch ${limitSwitch.input.claim.bcm}` : undefined,
    ];
    const timing = engine === 'software' ? `${library} (software-timed)` : 'pigpio waves';
    this.description = `${driver.type.toUpperCase()} on ${wiring.filter(Boolean).join(', ')} via ${timing}`;
  }

  async setEnabled(on: boolean): Promise<void> {
    this.#options.pins.enable?.write(on ? 0 : 1);
    this.#enabled = on || !this.#options.pins.enable;
  }

  async step(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options: { untilLimit?: boolean } = {},
  ): Promise<StepRun> {
    checkStepRequest(
      this.description,
      { closed: Boolean(this.#closed), running: Boolean(this.#running), hasLimitSwitch: this.hasLimitSwitch },
      direction,
      options.untilLimit,
    );
    this.#running = this.#run(
      direction,
      intervalsUs,
      AbortSignal.any([signal, this.#closing.signal]),
      options,
    );
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #run(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options: { untilLimit?: boolean },
  ): Promise<StepRun> {
    const { pins, driver, engine, limitSwitch } = this.#options;
    const clock = this.#clock;
    if (signal.aborted || intervalsUs.length === 0) return { steps: 0, exact: true, hitLimit: false };
    // Planned before any pin moves, so bad intervals leave the motor as it was.
    const waves = engine !== 'software' && !options.untilLimit;
    const batches = waves ? planStepWaves(pins.step.claim.bcm, intervalsUs, STEP_DIR_TIMING) : [];
    // Stepping a disabled driver would count steps the motor never made.
    if (!this.#enabled) await this.setEnabled(true);
    pins.dir.write((direction === 1) !== driver.invertDirection ? 1 : 0);
    const startUs = clock.nowUs();

    if (waves) {
      try {
        const { steps, exact } = await runWaveBatches(engine.pigpio, clock, batches, intervalsUs, signal);
        return { steps, exact, hitLimit: false };
      } finally {
        // waveTxStop can cut a pulse while STEP is high.
        pins.step.write(0);
      }
    }
    const limitActive = options.untilLimit && limitSwitch ? () => isActive(limitSwitch) : undefined;
    return runSoftSteps({
      clock,
      intervalsUs,
      signal,
      startUs,
      firstStepMinUs: STEP_DIR_TIMING.dirSetupUs,
      limitActive,
      issueStep: () => {
        pins.step.write(1);
        clock.spinUntil(clock.nowUs() + STEP_DIR_TIMING.stepHighUs);
        pins.step.write(0);
      },
    });
  }

  /** Closing twice waits for the first close. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing.abort();
    await this.#running?.catch(() => undefined);
    const { pins, limitSwitch, engine } = this.#options;
    await this.setEnabled(false);
    pins.step.write(0);
    if (engine !== 'software') engine.pigpio.waveClear();
    for (const pin of [pins.step, pins.dir, pins.enable, limitSwitch?.input]) pin?.close();
  }
}

const isActive = ({ input, activeLow }: LimitSwitchInput): boolean => input.read() === (activeLow ? 0 : 1);
