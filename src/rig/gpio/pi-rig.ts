// Opens the Raspberry Pi's GPIO hardware from the rig config: the stepper backend (pigpio waves or onoff),
// the button and the LED, every pin through one registry so a clash or a failure leaves nothing claimed.

import type { RigConfig, StageConfig, StepDirDriverConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import type { StepperBackend } from '../stage/backend.js';
import type { Button, Indicator } from '../types.js';
import { GpioButton, type ButtonLogger } from './button.js';
import { findHeaderChip, type HeaderChip, type SysfsFs } from './chip.js';
import { GpioIndicator } from './indicator.js';
import {
  loadOnoff,
  loadPigpio,
  onoffInput,
  onoffOutput,
  openOnoff,
  pigpioInput,
  pigpioOutput,
  type DigitalIn,
  type DigitalOut,
  type Level,
  type OnoffLike,
  type PigpioLike,
} from './libraries.js';
import { PinRegistry, type PinClaim, type SetupScope } from './pins.js';
import type { PulseClock } from './soft-timing.js';
import { StepDirBackend, type LimitSwitchInput } from './step-dir.js';
import { Uln2003Backend } from './uln2003.js';

export interface PiHardware {
  readonly chip: HeaderChip;
  /** The library driving the stepper's pins. */
  readonly stepperLibrary: 'pigpio' | 'onoff';
  readonly stepper: StepperBackend;
  /** Absent when the config wires none. */
  readonly button?: Button;
  readonly indicator?: Indicator;
  /** Pins in use, BCM number → owner. */
  pins(): Map<number, string>;
  /** Disables the motor, turns the LED off, releases every pin (and pigpio). */
  close(): Promise<void>;
}

/** Optional structured logger (pino's Logger fits). */
export interface PiRigLogger extends ButtonLogger {
  info(details: object, message: string): void;
}

export interface PiHardwareOptions {
  /** Default '/sys'; tests pass a temporary tree. */
  sysfsRoot?: string;
  sysfs?: SysfsFs;
  logger?: PiRigLogger;
  clock?: PulseClock;
  /** Injected libraries (tests); default: import onoff / pigpio on first use. */
  loadOnoff?: () => Promise<OnoffLike>;
  loadPigpio?: (chip: HeaderChip) => Promise<PigpioLike>;
}

type Rig = Pick<RigConfig, 'stage' | 'button' | 'indicator'>;

/**
 * stage.gpio 'auto' takes pigpio for a STEP/DIR driver when it loads (root, Pi 0–4) and onoff
 * otherwise; a ULN2003 gains nothing from DMA, so 'auto' gives it onoff. The button and LED use onoff.
 */
export async function openPiHardware(rig: Rig, options: PiHardwareOptions = {}): Promise<PiHardware> {
  const { stage } = rig;
  const logger = options.logger;
  const wantsOnoff = stage.gpio === 'onoff' || rig.button !== undefined || rig.indicator !== undefined;
  const chip = await findHeaderChip(options.sysfsRoot, {
    fs: options.sysfs,
    requireExport: wantsOnoff || stage.gpio === 'auto',
  });
  const registry = new PinRegistry(chip);
  let onoff: OnoffLike | undefined;
  const needOnoff = async () => (onoff ??= await (options.loadOnoff ?? loadOnoff)());
  const openPigpio = options.loadPigpio ?? ((c: HeaderChip) => loadPigpio({ chip: c }));

  return registry.setup(async (scope) => {
    let pigpio: PigpioLike | undefined;
    if (
      stage.gpio === 'pigpio' ||
      (stage.gpio === 'auto' && stage.driver.type !== 'uln2003' && !chip.isPi5)
    ) {
      try {
        pigpio = await openPigpio(chip);
        scope.onRollback(() => pigpio?.terminate());
      } catch (err) {
        if (stage.gpio === 'pigpio' || !(err instanceof StackscopeError)) throw err;
        logger?.info({ reason: err.message }, 'pigpio unavailable: the stepper uses onoff (software-timed)');
      }
    }
    const io: PinIo = pigpio ? pigpioIo(pigpio) : onoffIo(await needOnoff());
    const open = <T extends DigitalOut | DigitalIn>(make: () => T): T => {
      const pin = make();
      scope.onRollback(() => pin.close());
      return pin;
    };
    const out = (bcm: number, owner: string, initial: Level) =>
      open(() => io.out(scope.reserve(bcm, owner), initial));

    const limitSwitch = openLimitSwitch(stage, scope, io, open);
    if (limitSwitch) {
      const { input, activeLow } = limitSwitch;
      warnIfActiveAtStart(
        logger,
        'The stage limit switch',
        input.claim.bcm,
        input.read() === (activeLow ? 0 : 1),
        activeLow,
      );
    }
    const stepper = openStepper(stage, out, limitSwitch, pigpio, options.clock);

    let button: Button | undefined;
    if (rig.button) {
      const gpio = openOnoff(await needOnoff(), scope.reserve(rig.button.pin, 'button'), 'in', 'both');
      scope.onRollback(() => gpio.unexport());
      const { pin, activeLow } = rig.button;
      warnIfActiveAtStart(logger, 'The button', pin, gpio.readSync() === (activeLow ? 0 : 1), activeLow);
      button = new GpioButton(rig.button, gpio, { logger });
    }
    let indicator: Indicator | undefined;
    if (rig.indicator) {
      const lib = await needOnoff();
      const claim = scope.reserve(rig.indicator.pin, 'LED');
      // Opened at the level that means off, whichever way the LED is wired.
      const led = open(() => onoffOutput(lib, claim, rig.indicator?.activeLow ? 1 : 0));
      indicator = new GpioIndicator(rig.indicator, led);
    }

    logger?.info({ chip: chip.label, base: chip.base, stepper: stepper.description }, 'Pi GPIO ready');
    let closed = false;
    return {
      chip,
      stepperLibrary: pigpio ? 'pigpio' : 'onoff',
      stepper,
      button,
      indicator,
      pins: () => registry.owners(),
      async close() {
        if (closed) return;
        closed = true;
        // Each part closes its own pins; a failing part must not keep the motor energised or pins held.
        const results = await Promise.allSettled([stepper.close(), button?.close(), indicator?.close()]);
        registry.releaseAll();
        pigpio?.terminate();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    } satisfies PiHardware;
  });
}

/** Opens pins with whichever library drives the stepper. */
interface PinIo {
  library: 'pigpio' | 'onoff';
  out(claim: PinClaim, initial: Level): DigitalOut;
  in(claim: PinClaim, activeLow: boolean): DigitalIn;
}

const pigpioIo = (pigpio: PigpioLike): PinIo => ({
  library: 'pigpio',
  out: (claim, initial) => pigpioOutput(pigpio, claim, initial),
  in: (claim, activeLow) => pigpioInput(pigpio, claim, activeLow),
});

const onoffIo = (onoff: OnoffLike): PinIo => ({
  library: 'onoff',
  out: (claim, initial) => onoffOutput(onoff, claim, initial),
  in: (claim) => onoffInput(onoff, claim),
});

function openLimitSwitch(
  stage: StageConfig,
  scope: SetupScope,
  io: PinIo,
  open: <T extends DigitalIn>(make: () => T) => T,
): LimitSwitchInput | undefined {
  const config = stage.limitSwitch;
  if (!config) return undefined;
  const input = open(() => io.in(scope.reserve(config.pin, 'stage limit switch'), config.activeLow));
  return { input, activeLow: config.activeLow };
}

function openStepper(
  stage: StageConfig,
  out: (bcm: number, owner: string, initial: Level) => DigitalOut,
  limitSwitch: LimitSwitchInput | undefined,
  pigpio: PigpioLike | undefined,
  clock: PulseClock | undefined,
): StepperBackend {
  const library = pigpio ? 'pigpio' : 'onoff';
  const driver = stage.driver;
  if (driver.type === 'uln2003') {
    const [a, b, c, d] = driver.pins.map((bcm, i) => out(bcm, `stage IN${i + 1}`, 0));
    return new Uln2003Backend({ driver, pins: [a, b, c, d], limitSwitch, library, clock });
  }
  const stepDir: StepDirDriverConfig = driver;
  const pins = {
    step: out(stepDir.stepPin, 'stage STEP', 0),
    dir: out(stepDir.dirPin, 'stage DIR', 0),
    // EN is active low: opened high, the driver starts disabled.
    enable: stepDir.enablePin === undefined ? undefined : out(stepDir.enablePin, 'stage EN', 1),
  };
  return new StepDirBackend({
    driver: stepDir,
    pins,
    limitSwitch,
    engine: pigpio ? { pigpio } : 'software',
    library,
    clock,
  });
}

/**
 * sysfs cannot set pull resistors, and BCM 9–27 default to pull-down: an active-low input there floats
 * low and reads "pressed" for ever. Reading active before anyone touched it is the sign to look for.
 */
function warnIfActiveAtStart(
  logger: PiRigLogger | undefined,
  what: string,
  bcm: number,
  active: boolean,
  activeLow: boolean,
): void {
  if (!active) return;
  const pull = activeLow ? 'up' : 'down';
  logger?.warn(
    { pin: bcm, activeLow },
    `${what} on BCM ${bcm} reads active at start-up: unless it is pressed, the pin needs a pull-${pull} ` +
      `(add gpio=${bcm}=p${pull[0]} to /boot/firmware/config.txt, or wire a resistor)`,
  );
}
