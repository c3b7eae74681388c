// Checks the lazy library loaders and pin adapters: each way onoff or pigpio can be unusable becomes a
// GPIO_UNAVAILABLE error that says why, and the adapters open pins the way the hardware needs.

import { describe, expect, it } from 'vitest';
import type { HeaderChip } from '../../../src/rig/gpio/chip.js';
import {
  loadOnoff,
  loadPigpio,
  onoffInput,
  onoffOutput,
  openOnoff,
  pigpioInput,
  pigpioOutput,
} from '../../../src/rig/gpio/libraries.js';
import type { PinClaim } from '../../../src/rig/gpio/pins.js';
import { StackscopeError } from '../../../src/errors.js';
import { FakeOnoff, VirtualClock } from '../../fakes/fake-onoff.js';
import { FakePigpio } from '../../fakes/fake-pigpio.js';

const chip = (label: HeaderChip['label']): HeaderChip => ({
  label,
  model: label === 'pinctrl-rp1' ? 'Raspberry Pi 5 / CM5' : 'Raspberry Pi 4 / 400 / CM4',
  base: label === 'pinctrl-rp1' ? 571 : 512,
  ngpio: 54,
  path: '/sys/class/gpio/gpiochip512',
  isPi5: label === 'pinctrl-rp1',
});
const PI4 = chip('pinctrl-bcm2711');
const PI5 = chip('pinctrl-rp1');
const claim = (bcm: number, owner = 'stage STEP'): PinClaim => ({ bcm, sysfs: 512 + bcm, owner });
const notFound = () =>
  Promise.reject(Object.assign(new Error("Cannot find package 'x'"), { code: 'ERR_MODULE_NOT_FOUND' }));

async function gpioFailure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StackscopeError);
  expect((err as StackscopeError).code).toBe('GPIO_UNAVAILABLE');
  return (err as Error).message;
}

describe('loadOnoff', () => {
  it('returns the module, unwrapping CommonJS default exports', async () => {
    const fake = new FakeOnoff();
    await expect(loadOnoff(async () => ({ default: fake.module }))).resolves.toBe(fake.module);
  });

  it('says how to install onoff when it is missing', async () => {
    const message = await gpioFailure(loadOnoff(notFound));
    expect(message).toMatch(/onoff is not installed.*optional dependency.*npm install onoff/);
  });

  it('passes on why onoff failed to load otherwise', async () => {
    const message = await gpioFailure(
      loadOnoff(() => Promise.reject(new Error('epoll.node: invalid ELF header'))),
    );
    expect(message).toBe('onoff failed to load: epoll.node: invalid ELF header.');
  });

  it('refuses a module without a Gpio class', async () => {
    expect(await gpioFailure(loadOnoff(async () => ({ default: {} })))).toMatch(/no Gpio class/);
  });
});

describe('loadPigpio', () => {
  const fakeModule = () => new FakePigpio(new VirtualClock());

  it('initialises pigpio on a Pi 4 as root', async () => {
    const fake = fakeModule();
    await expect(loadPigpio({ chip: PI4, isRoot: true, importer: async () => fake.module })).resolves.toBe(
      fake.module,
    );
    expect(fake.initialized).toBe(true);
    // Neither pigpio's TCP socket (port 8888, every interface) nor its pipe may stay open.
    expect(fake.interfaces).toEqual({ mask: 3, beforeInitialize: true });
  });

  it('refuses a Pi 5 before importing anything', async () => {
    let imported = false;
    const message = await gpioFailure(
      loadPigpio({ chip: PI5, isRoot: true, importer: async () => void (imported = true) }),
    );
    expect(message).toMatch(/pigpio does not support the Raspberry Pi 5.*pinctrl-rp1.*'onoff'/);
    expect(imported).toBe(false);
  });

  it('refuses to run without root', async () => {
    const message = await gpioFailure(loadPigpio({ chip: PI4, isRoot: false, importer: async () => ({}) }));
    expect(message).toMatch(/pigpio needs root.*run stackscope as root, or set stage.gpio to 'onoff'/);
  });

  it('says pigpio is missing when it is not installed', async () => {
    expect(await gpioFailure(loadPigpio({ chip: PI4, isRoot: true, importer: notFound }))).toMatch(
      /pigpio is not installed/,
    );
  });

  it('explains a C library that does not start (not a Pi, libpigpio missing, pigpiod running)', async () => {
    const offPi = {
      initialize: () => {
        throw new TypeError('pigpio.gpioInitialise is not a function');
      },
    };
    const message = await gpioFailure(loadPigpio({ chip: PI4, isRoot: true, importer: async () => offPi }));
    expect(message).toMatch(/did not start \(pigpio.gpioInitialise is not a function\)/);
    expect(message).toMatch(/apt install pigpio/);
    expect(message).toMatch(/systemctl stop pigpiod/);
  });
});

describe('onoff adapters', () => {
  it('opens outputs at their initial level and inputs as inputs, by sysfs number', () => {
    const fake = new FakeOnoff();
    const enable = onoffOutput(fake.module, claim(16, 'stage EN'), 1);
    const limit = onoffInput(fake.module, claim(5, 'limit'));
    expect(fake.opened).toEqual([
      { pin: 528, direction: 'high', edge: undefined },
      { pin: 517, direction: 'in', edge: undefined },
    ]);
    enable.write(0);
    fake.setInput(517, 1);
    expect(limit.read()).toBe(1);
    expect(fake.of(528).map((e) => e.value)).toEqual([1, 0]);
    enable.close();
    enable.close(); // closing twice is harmless
    limit.close();
    expect(fake.exported.size).toBe(0);
  });

  it.each([
    ['EBUSY', /BCM 20 \(sysfs GPIO 532\) for stage STEP: the pin is in use by a kernel driver/],
    ['EACCES', /permission denied: add the user to group gpio/],
    ['EINVAL', /sysfs refused the number/],
  ])('turns %s on export into a message naming the pin and its owner', (code, expected) => {
    const fake = new FakeOnoff();
    fake.failOpen.set(532, code);
    let err: unknown;
    try {
      openOnoff(fake.module, claim(20), 'low');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackscopeError);
    expect((err as Error).message).toMatch(expected);
  });
});

describe('pigpio adapters', () => {
  it('drives BCM numbers, sets the initial level, and pulls inputs the way the switch is wired', () => {
    const fake = new FakePigpio(new VirtualClock());
    const step = pigpioOutput(fake.module, claim(20), 0);
    pigpioInput(fake.module, claim(5, 'limit'), true);
    const high = pigpioInput(fake.module, claim(6, 'limit 2'), false);
    step.write(1);
    expect(fake.timeline.map((e) => [e.pin, e.value])).toEqual([
      [20, 0],
      [20, 1],
    ]);
    expect(fake.modes.get(20)).toEqual({ mode: 1 });
    expect(fake.modes.get(5)).toEqual({ mode: 0, pullUpDown: 2 });
    expect(fake.modes.get(6)).toEqual({ mode: 0, pullUpDown: 1 });
    fake.levels.set(6, 1);
    expect(high.read()).toBe(1);
  });
});
