// The microscope's hardware as the rest of stackscope sees it: a focus stage, a camera, a button and
// an indicator LED. Two complete rigs implement these: the Raspberry Pi one (rig/gpio, rig/camera)
// and the simulated microscope (rig/simulated). Nothing outside rig/gpio imports onoff or pigpio.

/** Where the stage is. Positions are in µm along the focus axis; steps are the driver's (micro)steps. */
export interface StagePosition {
  um: number;
  steps: number;
  /**
   * False when the stage cannot be sure of its position: it was never homed and no saved position
   * survived, or the last run ended mid-move (power cut, kill -9). Moves still work; the UI says so.
   */
  certain: boolean;
  /** Why the position is uncertain, in words a user can act on (absent when certain). */
  uncertainReason?: string;
}

export interface StageLimits {
  minUm: number;
  maxUm: number;
}

export interface MoveOptions {
  /** Aborting stops the motor at once (as stop() does); the move's promise rejects with CANCELLED. */
  signal?: AbortSignal;
}

export type StageEvent =
  | { type: 'move-start'; fromUm: number; toUm: number }
  | { type: 'move-end'; position: StagePosition }
  | { type: 'stopped'; position: StagePosition };

/**
 * A motorised focus axis. The least a driver must do:
 * - refuse (STAGE_LIMIT, nothing moves) any target outside `limits`: never clamp silently;
 * - approach every target from the same side, taking up backlash, so a position means one place;
 * - keep its position across restarts, and say (`certain: false`) when it cannot;
 * - run one move at a time (STAGE_BUSY for a second one), and halt at once on stop().
 */
export interface FocusStage {
  readonly limits: StageLimits;
  /** Smallest move the stage makes, µm (one step or microstep). */
  readonly stepUm: number;
  position(): StagePosition;
  moveTo(um: number, options?: MoveOptions): Promise<StagePosition>;
  moveBy(deltaUm: number, options?: MoveOptions): Promise<StagePosition>;
  /** Drive to the limit switch and set the position there; STAGE_NO_HOMING without one. */
  home(options?: MoveOptions): Promise<StagePosition>;
  /**
   * Declare where the stage is now, without moving (a rig without a limit switch: focus by eye on a
   * known plane, then set it). Makes the position certain; STAGE_LIMIT outside the limits.
   */
  setPosition(um: number): Promise<StagePosition>;
  /** Halt now (a running move rejects with CANCELLED); resolves once the motor stands still. */
  stop(): Promise<void>;
  /** Listen to moves; returns the unsubscribe function. */
  onEvent(listener: (event: StageEvent) => void): () => void;
  /** Stop, release the pins, save the position. */
  close(): Promise<void>;
}

/** Everything that must stay the same across the frames of one stack, so they differ only in focus. */
export interface CaptureSettings {
  width?: number;
  height?: number;
  encoding: 'jpg' | 'png';
  /** JPEG quality 1–100. */
  quality: number;
  /** Exposure time in µs; absent: metered once at the start of the stack, then locked. */
  shutterUs?: number;
  analogueGain?: number;
  /** Red and blue white-balance gains; absent: metered once, then locked. */
  awbGains?: [number, number];
  /** Camera Module 3's lens, in dioptres (0 = infinity): fixed so autofocus cannot hunt. */
  lensPosition?: number;
  denoise: 'auto' | 'off' | 'cdn_off' | 'cdn_fast' | 'cdn_hq';
}

export interface CapturedFrame {
  /** The complete file, as written by the camera. */
  file: string;
  /** Wall-clock duration of the capture call, ms. */
  durationMs: number;
  /** Exposure actually used, when the camera reports it. */
  exposure?: { shutterUs: number; analogueGain: number; awbGains?: [number, number] };
}

/**
 * A still camera. A session (`open` … `close`) spans one stack: the camera locks exposure, gain,
 * white balance and lens for it, and keeps itself ready so each frame costs only the exposure.
 * capture() resolves only once the file is complete on disk; a crashed or hung camera becomes a
 * CAMERA_FAILED or CAMERA_TIMEOUT error carrying what the camera said (stderr), and the next
 * capture starts it again.
 */
export interface Camera {
  readonly description: string;
  open(settings: CaptureSettings): Promise<void>;
  capture(file: string, options?: MoveOptions): Promise<CapturedFrame>;
  close(): Promise<void>;
}

export type PressKind = 'short' | 'long';

/** The microscope's capture button: debounced; a short press and a long press are distinct events. */
export interface Button {
  onPress(listener: (kind: PressKind) => void): () => void;
  close(): Promise<void>;
}

export type IndicatorState = 'off' | 'idle' | 'capturing' | 'stacking' | 'error';

/** The status LED: each state is a blink pattern (see rig/indicator-patterns.ts). */
export interface Indicator {
  show(state: IndicatorState): void;
  readonly state: IndicatorState;
  close(): Promise<void>;
}

export interface Rig {
  readonly kind: 'pi' | 'simulated';
  readonly stage: FocusStage;
  readonly camera: Camera;
  readonly button: Button;
  readonly indicator: Indicator;
  close(): Promise<void>;
}
