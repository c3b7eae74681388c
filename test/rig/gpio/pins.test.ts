// Checks the pin registry: numbering both ways, one owner per pin (the error names both), and setup
// that releases everything it reserved and undoes what it opened when it fails half-way.

import { describe, expect, it } from 'vitest';
import type { HeaderChip } from '../../../src/rig/gpio/chip.js';
import { PinRegistry } from '../../../src/rig/gpio/pins.js';
import { StackscopeError } from '../../../src/errors.js';

const PI4: HeaderChip = {
  label: 'pinctrl-bcm2711',
  model: 'Raspberry Pi 4',
  base: 512,
  ngpio: 58,
  path: '/sys/class/gpio/gpiochip512',
  isPi5: false,
};

describe('PinRegistry', () => {
  it('numbers a reserved pin for pigpio (BCM) and onoff (sysfs) once', () => {
    const registry = new PinRegistry(PI4);
    const claim = registry.reserve(20, 'stage STEP');
    expect(claim).toEqual({ bcm: 20, sysfs: 532, owner: 'stage STEP' });
    expect(Object.isFrozen(claim)).toBe(true);
    expect(registry.owners()).toEqual(new Map([[20, 'stage STEP']]));
  });

  it('refuses a second reservation of a pin, naming both owners', () => {
    const registry = new PinRegistry(PI4);
    registry.reserve(26, 'stage STEP');
    let err: unknown;
    try {
      registry.reserve(26, 'button');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackscopeError);
    expect((err as StackscopeError).code).toBe('GPIO_UNAVAILABLE');
    expect((err as Error).message).toBe(
      'BCM pin 26 is wanted by button but already reserved by stage STEP: give each a pin of its own.',
    );
    expect(registry.owners().get(26)).toBe('stage STEP');
  });

  it('refuses pins that are not usable header GPIOs', () => {
    const registry = new PinRegistry(PI4);
    expect(() => registry.reserve(0, 'LED')).toThrow(
      /LED: BCM pin 0 is not a usable header GPIO; expected a whole number 2–27/,
    );
    expect(() => registry.reserve(28, 'LED')).toThrow(/BCM pin 28/);
    expect(() => registry.reserve(3.5, 'LED')).toThrow(StackscopeError);
    expect(registry.owners().size).toBe(0);
  });

  it('frees a released pin for another owner', () => {
    const registry = new PinRegistry(PI4);
    const claim = registry.reserve(5, 'limit switch');
    registry.release(claim);
    expect(registry.reserve(5, 'button').owner).toBe('button');
  });

  it('keeps what a successful setup reserved', async () => {
    const registry = new PinRegistry(PI4);
    const result = await registry.setup(async (scope) => [
      scope.reserve(20, 'STEP'),
      scope.reserve(21, 'DIR'),
    ]);
    expect(result.map((c) => c.sysfs)).toEqual([532, 533]);
    expect([...registry.owners().keys()]).toEqual([20, 21]);
  });

  it('releases every pin and undoes opened pins (newest first) when setup fails half-way', async () => {
    const registry = new PinRegistry(PI4);
    registry.reserve(19, 'LED');
    const undone: string[] = [];
    const failing = registry.setup(async (scope) => {
      scope.reserve(20, 'STEP');
      scope.onRollback(() => void undone.push('STEP'));
      scope.reserve(21, 'DIR');
      scope.onRollback(async () => void undone.push('DIR'));
      scope.reserve(19, 'button'); // taken by the LED
    });
    await expect(failing).rejects.toThrow(/BCM pin 19 is wanted by button but already reserved by LED/);
    expect(undone).toEqual(['DIR', 'STEP']);
    // Only the pin reserved before the setup is still held; 20 and 21 are free again.
    expect(registry.owners()).toEqual(new Map([[19, 'LED']]));
    expect(registry.reserve(20, 'again').owner).toBe('again');
  });

  it('reports the original failure even when undoing fails too', async () => {
    const registry = new PinRegistry(PI4);
    const undone: string[] = [];
    const failing = registry.setup(async (scope) => {
      scope.reserve(20, 'STEP');
      scope.onRollback(() => void undone.push('first'));
      scope.onRollback(() => {
        throw new Error('unexport failed');
      });
      throw new StackscopeError('GPIO_UNAVAILABLE', 'library missing');
    });
    await expect(failing).rejects.toThrow('library missing');
    expect(undone).toEqual(['first']);
    expect(registry.owners().size).toBe(0);
  });
});
