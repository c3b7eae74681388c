// Lazy loading of the two GPIO libraries (onoff: sysfs, any Pi; pigpio: DMA, Pi 0–4, root), the small
// slices of their APIs stackscope uses, and pin adapters so backends take injected objects and tests fakes.

import { StackscopeError } from '../../errors.js';
import { errorCode, PERMISSION_HINT, type HeaderChip } from './chip.js';
import type { PinClaim } from './pins.js';

export type Level = 0 | 1;
export type OnoffDirection = 'in' | 'out' | 'high' | 'low';
export type OnoffEdge = 'none' | 'rising' | 'falling' | 'both';

/** What stackscope uses of an onoff Gpio (onoff.d.ts). */
export interface OnoffGpioLike {
  readSync(): Level;
  writeSync(value: Level): void;
  watch(callback: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** The onoff module: its Gpio takes sysfs numbers (base + BCM), never BCM numbers. */
export interface OnoffLike {
  Gpio: new (gpio: number, direction: OnoffDirection, edge?: OnoffEdge) => OnoffGpioLike;
}

/** What stackscope uses of a pigpio Gpio (pigpio.d.ts); pigpio takes BCM numbers. */
export interface PigpioGpioLike {
  digitalWrite(level: number): unknown;
  digitalRead(): number;
}

/** One waveform pulse: gpioOn/gpioOff are one BCM number each, 0 meaning none. */
export interface PigpioPulse {
  gpioOn: number;
  gpioOff: number;
  usDelay: number;
}

/** The pigpio module: initialisation, pins and the waveform calls the step pulses need. */
export interface PigpioLike {
  Gpio: {
    new (gpio: number, options?: { mode?: number; pullUpDown?: number }): PigpioGpioLike;
    readonly INPUT: number;
    readonly OUTPUT: number;
    readonly PUD_OFF: number;
    readonly PUD_DOWN: number;
    readonly PUD_UP: number;
  };
  configureInterfaces?(interfaces: number): void;
  readonly DISABLE_FIFO_IF?: number;
  readonly DISABLE_SOCK_IF?: number;
  initialize(): void;
  terminate(): void;
  waveClear(): void;
  waveAddGeneric(pulses: PigpioPulse[]): unknown;
  waveCreate(): number;
  waveDelete(waveId: number): void;
  waveChain(chain: number[]): void;
  waveTxBusy(): number;
  waveTxStop(): void;
}

type Importer = () => Promise<unknown>;

// Specifiers in variables: tsc must not need the optional modules' types, which are absent when their
// native builds failed, and nothing outside this directory may name them.
const ONOFF = 'onoff';
const PIGPIO = 'pigpio';
const importOnoff: Importer = () => import(ONOFF);
const importPigpio: Importer = () => import(PIGPIO);

/** CommonJS modules arrive as `default` under ESM import. */
const moduleBody = (namespace: unknown): Record<string, unknown> => {
  const ns = namespace as { default?: unknown };
  return (typeof ns.default === 'object' && ns.default !== null ? ns.default : ns) as Record<string, unknown>;
};

function missingModule(name: string, err: unknown): StackscopeError {
  const code = errorCode(err);
  const why =
    code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? `${name} is not installed: it is an optional dependency whose native build needs a C compiler ` +
        `(on the Pi: sudo apt install build-essential, then npm install ${name})`
      : `${name} failed to load: ${(err as Error).message}`;
  return new StackscopeError('GPIO_UNAVAILABLE', `${why}.`, { cause: err });
}

/** Imports onoff on first use; GPIO_UNAVAILABLE saying why when it cannot. */
export async function loadOnoff(importer: Importer = importOnoff): Promise<OnoffLike> {
  let body: Record<string, unknown>;
  try {
    body = moduleBody(await importer());
  } catch (err) {
    throw missingModule('onoff', err);
  }
  if (typeof body.Gpio !== 'function') {
    throw new StackscopeError('GPIO_UNAVAILABLE', 'onoff loaded but has no Gpio class: expected onoff 6.x.');
  }
  return body as unknown as OnoffLike;
}

export interface LoadPigpioOptions {
  chip: HeaderChip;
  /** Default: process.getuid() === 0. */
  isRoot?: boolean;
  importer?: Importer;
}

/**
 * Imports and initialises pigpio, refusing up front what cannot work: a Pi 5 (pigpio does not support
 * the RP1), or a process that is not root (pigpio maps /dev/mem for DMA). Checking the chip first also
 * keeps pigpio's load-failure banner off machines that are not a Pi.
 */
export async function loadPigpio(options: LoadPigpioOptions): Promise<PigpioLike> {
  const { chip, importer = importPigpio } = options;
  if (chip.isPi5) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `pigpio does not support the ${chip.model} (${chip.label}): set stage.gpio to 'onoff' or 'auto'.`,
    );
  }
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      "pigpio needs root (it drives the pins by DMA through /dev/mem): run stackscope as root, or set stage.gpio to 'onoff'.",
    );
  }
  let body: Record<string, unknown>;
  try {
    body = moduleBody(await importer());
  } catch (err) {
    throw missingModule('pigpio', err);
  }
  const pigpio = body as unknown as PigpioLike;
  // Left on, pigpio's C library listens on TCP 8888 on every interface: anyone on the LAN could drive
  // the pins, as root. stackscope drives them in-process and needs neither the socket nor the pipe.
  pigpio.configureInterfaces?.((pigpio.DISABLE_FIFO_IF ?? 1) | (pigpio.DISABLE_SOCK_IF ?? 2));
  try {
    pigpio.initialize();
  } catch (err) {
    throw new StackscopeError(
      'GPIO_UNAVAILABLE',
      `pigpio's C library did not start (${(err as Error).message}): it needs libpigpio (sudo apt install pigpio), ` +
        'and only one process may use it, so stop pigpiod if it runs (sudo systemctl stop pigpiod).',
      { cause: err },
    );
  }
  return pigpio;
}

/** An output pin, whatever drives it. */
export interface DigitalOut {
  readonly claim: PinClaim;
  write(level: Level): void;
  close(): void;
}

/** An input pin, whatever reads it. */
export interface DigitalIn {
  readonly claim: PinClaim;
  read(): Level;
  close(): void;
}

/** Opens a pin with onoff, turning sysfs failures into GPIO_UNAVAILABLE that name the pin and its owner. */
export function openOnoff(
  onoff: OnoffLike,
  claim: PinClaim,
  direction: OnoffDirection,
  edge?: OnoffEdge,
): OnoffGpioLike {
  try {
    return edge ? new onoff.Gpio(claim.sysfs, direction, edge) : new onoff.Gpio(claim.sysfs, direction);
  } catch (err) {
    const pin = `BCM ${claim.bcm} (sysfs GPIO ${claim.sysfs}) for ${claim.owner}`;
    const code = errorCode(err);
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? `permission denied: ${PERMISSION_HINT}`
        : code === 'EBUSY'
          ? 'the pin is in use by a kernel driver (a dtoverlay in /boot/firmware/config.txt) or another program'
          : code === 'EINVAL'
            ? 'sysfs refused the number: the header chip base is not what /sys/class/gpio reported'
            : (err as Error).message;
    throw new StackscopeError('GPIO_UNAVAILABLE', `Cannot open ${pin}: ${why}.`, { cause: err });
  }
}

/** onoff opens outputs as 'high'/'low' so the level is set at export, without a glitch. */
export function onoffOutput(onoff: OnoffLike, claim: PinClaim, initial: Level): DigitalOut {
  const gpio = openOnoff(onoff, claim, initial ? 'high' : 'low');
  let open = true;
  return {
    claim,
    write: (level) => gpio.writeSync(level),
    close: () => {
      // sysfs keeps an unexported output at its last level: a driver left disabled stays disabled.
      if (open) gpio.unexport();
      open = false;
    },
  };
}

/**
 * An onoff input. sysfs cannot set pull resistors: an active-low switch needs the pin's default pull-up
 * (BCM 2–8), an external resistor, or `gpio=N=pu` in config.txt.
 */
export function onoffInput(onoff: OnoffLike, claim: PinClaim): DigitalIn {
  const gpio = openOnoff(onoff, claim, 'in');
  let open = true;
  return {
    claim,
    read: () => gpio.readSync(),
    close: () => {
      if (open) gpio.unexport();
      open = false;
    },
  };
}

export function pigpioOutput(pigpio: PigpioLike, claim: PinClaim, initial: Level): DigitalOut {
  const gpio = new pigpio.Gpio(claim.bcm, { mode: pigpio.Gpio.OUTPUT });
  gpio.digitalWrite(initial);
  // close() leaves the pin an output at its level: as an input it would float, and a floating A4988
  // EN is pulled low inside the chip, which enables the motor.
  return { claim, write: (level) => void gpio.digitalWrite(level), close: () => undefined };
}

/** pigpio, unlike sysfs, sets the pull resistor: up for an active-low switch, down otherwise. */
export function pigpioInput(pigpio: PigpioLike, claim: PinClaim, activeLow: boolean): DigitalIn {
  const { Gpio } = pigpio;
  const gpio = new Gpio(claim.bcm, { mode: Gpio.INPUT, pullUpDown: activeLow ? Gpio.PUD_UP : Gpio.PUD_DOWN });
  return { claim, read: () => (gpio.digitalRead() ? 1 : 0), close: () => undefined };
}
