// What a stepper stage needs from the thing that makes the motor turn: timed step pulses in one
// direction, enable/disable, and an optional limit switch. GPIO backends (rig/gpio) and the
// simulated motor (rig/simulated) implement it; StepperStage adds positions, limits and backlash.

export interface StepRun {
  /** Steps actually issued (fewer than asked when aborted or stopped at the limit switch). */
  steps: number;
  /** False when the backend cannot know the exact count (a DMA wave cut short): the position is then uncertain. */
  exact: boolean;
  /** The run ended because the limit switch became active. */
  hitLimit: boolean;
}

export interface StepperBackend {
  /** E.g. "A4988 on BCM 20/21 via pigpio waves" — shown in status and logs. */
  readonly description: string;
  /** Whether a limit switch is wired: only then can step() stop at it, and the stage home. */
  readonly hasLimitSwitch: boolean;
  /** Energise (true) or release (false) the motor. */
  setEnabled(on: boolean): Promise<void>;
  /**
   * Issue intervalsUs.length steps in `direction` (+1 towards larger µm), step i starting
   * intervalsUs[i] µs after step i − 1 (intervalsUs[0]: after the direction is set). Stops within one
   * step of `signal` aborting, and, with `untilLimit`, at the first step the limit switch is active.
   */
  step(
    direction: 1 | -1,
    intervalsUs: Uint32Array,
    signal: AbortSignal,
    options?: { untilLimit?: boolean },
  ): Promise<StepRun>;
  /** Release pins and resources; the motor is left disabled. */
  close(): Promise<void>;
}
