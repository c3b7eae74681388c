// The pin registry: every header pin the rig uses is parsed once, reserved under a named owner, and
// released together if setup fails half-way (the habit of Moonraker's components/gpio.py).

import { StackscopeError } from '../../errors.js';
import { sysfsGpioNumber, type HeaderChip } from './chip.js';

/** BCM 0/1 are the HAT EEPROM's, and pigpio's waves use 0 to mean "no pin"; 27 is the header's last. */
export const FIRST_USABLE_BCM = 2;
export const LAST_USABLE_BCM = 27;

/** A reserved pin, numbered both ways: pigpio takes `bcm`, onoff (sysfs) takes `sysfs`. */
export interface PinClaim {
  readonly bcm: number;
  readonly sysfs: number;
  readonly owner: string;
}

type Cleanup = () => void | Promise<void>;

/** What a setup function may do: reserve pins, and say how to undo what it opened. */
export interface SetupScope {
  reserve(bcm: number, owner: string): PinClaim;
  /** Runs, newest first, if the setup throws. */
  onRollback(cleanup: Cleanup): void;
}

export class PinRegistry {
  readonly #chip: HeaderChip;
  readonly #claims = new Map<number, PinClaim>();

  constructor(chip: HeaderChip) {
    this.#chip = chip;
  }

  /** Reserves BCM `bcm` for `owner`; GPIO_UNAVAILABLE naming both owners when it is taken. */
  reserve(bcm: number, owner: string): PinClaim {
    if (!Number.isInteger(bcm) || bcm < FIRST_USABLE_BCM || bcm > LAST_USABLE_BCM) {
      throw new StackscopeError(
        'GPIO_UNAVAILABLE',
        `${owner}: BCM pin ${bcm} is not a usable header GPIO; expected a whole number ${FIRST_USABLE_BCM}–${LAST_USABLE_BCM}.`,
      );
    }
    const held = this.#claims.get(bcm);
    if (held) {
      throw new StackscopeError(
        'GPIO_UNAVAILABLE',
        `BCM pin ${bcm} is wanted by ${owner} but already reserved by ${held.owner}: give each a pin of its own.`,
      );
    }
    const claim: PinClaim = Object.freeze({ bcm, sysfs: sysfsGpioNumber(this.#chip, bcm), owner });
    this.#claims.set(bcm, claim);
    return claim;
  }

  release(claim: PinClaim): void {
    if (this.#claims.get(claim.bcm) === claim) this.#claims.delete(claim.bcm);
  }

  releaseAll(): void {
    this.#claims.clear();
  }

  /** Pins in use, BCM number → owner, for status and logs. */
  owners(): Map<number, string> {
    return new Map([...this.#claims].map(([bcm, claim]) => [bcm, claim.owner]));
  }

  /**
   * Runs `build`, reserving pins through the scope it is given. If it throws, the rollbacks run (newest
   * first; their own failures do not hide the original error) and every pin it reserved is released.
   */
  async setup<T>(build: (scope: SetupScope) => Promise<T>): Promise<T> {
    const reserved: PinClaim[] = [];
    const rollbacks: Cleanup[] = [];
    const scope: SetupScope = {
      reserve: (bcm, owner) => {
        const claim = this.reserve(bcm, owner);
        reserved.push(claim);
        return claim;
      },
      onRollback: (cleanup) => void rollbacks.push(cleanup),
    };
    try {
      return await build(scope);
    } catch (err) {
      for (const cleanup of rollbacks.reverse()) {
        try {
          await cleanup();
        } catch {
          // Keep undoing: the error worth reporting is the one that made the setup fail.
        }
      }
      for (const claim of reserved) this.release(claim);
      throw err;
    }
  }
}
