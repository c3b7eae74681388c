// Checks openPiHardware on fake sysfs trees with fake onoff and pigpio: which library drives the stepper
// (auto: pigpio on a Pi 4, onoff on a Pi 5), sysfs numbering, and that a clash or failure leaves nothing held.

import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { rigSchema } from '../../../src/config/schema.js';
import { openPiHardware, type PiHardwareOptions } from '../../../src/rig/gpio/pi-rig.js';
import { StackscopeError } from '../../../src/errors.js';
import {
  FakeOnoff,
  makeSysfsTree,
  PI4_KERNEL_6_6,
  PI5_KERNEL_6_6,
  VirtualClock,
} from '../../fakes/fake-onoff.js';
import { FakePigpio } from '../../fakes/fake-pigpio.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

async function setup(pi: 4 | 5, pigpioWorks = true) {
  const root = await makeSysfsTree(pi === 4 ? PI4_KERNEL_6_6 : PI5_KERNEL_6_6);
  roots.push(root);
  const clock = new VirtualClock();
  const onoff = new FakeOnoff(clock);
  const pigpio = new FakePigpio(clock);
  const logs: { details: object; message: string }[] = [];
  const pigpioCalls: string[] = [];
  const options: PiHardwareOptions = {
    sysfsRoot: root,
    clock,
    logger: {
      info: (details, message) => void logs.push({ details, message }),
      warn: (details, message) => void logs.push({ details, message }),
    },
    loadOnoff: async () => onoff.module,
    loadPigpio: async (chip) => {
      pigpioCalls.push(chip.label);
      if (!pigpioWorks) throw new StackscopeError('GPIO_UNAVAILABLE', 'pigpio needs root (test)');
      pigpio.module.initialize();
      return pigpio.module;
    },
  };
  return { options, onoff, pigpio, logs, pigpioCalls, base: pi === 4 ? 512 : 571 };
}

const config = (extra: Record<string, unknown> = {}) =>
  rigSchema.parse({ button: {}, indicator: {}, ...extra }); // defaults: A4988 STEP 20, DIR 21, EN 16; button 26; LED 19

describe('openPiHardware', () => {
  it('on a Pi 4 with auto: pigpio waves for the stepper, onoff (sysfs 512 + N) for button and LED', async () => {
    const { options, onoff, pigpio, base } = await setup(4);
    const hw = await openPiHardware(config(), options);
    expect(hw.chip).toMatchObject({ label: 'pinctrl-bcm2711', base: 512 });
    expect(hw.stepperLibrary).toBe('pigpio');
    expect(hw.stepper.description).toBe('A4988 on BCM 20/21, EN 16 via pigpio waves');
    expect(hw.pins()).toEqual(
      new Map([
        [20, 'stage STEP'],
        [21, 'stage DIR'],
        [16, 'stage EN'],
        [26, 'button'],
        [19, 'LED'],
      ]),
    );
    expect([...pigpio.modes.keys()].sort()).toEqual([16, 20, 21]);
    expect(pigpio.levels.get(16)).toBe(1); // EN high: disabled until asked
    expect(onoff.opened.map((o) => [o.pin, o.direction, o.edge])).toEqual([
      [base + 26, 'in', 'both'],
      [base + 19, 'low', undefined],
    ]);
    expect(hw.button).toBeDefined();
    expect(hw.indicator?.state).toBe('off');

    await hw.stepper.setEnabled(true);
    await hw.close();
    expect(pigpio.levels.get(16)).toBe(1);
    expect(pigpio.terminated).toBe(true);
    expect(onoff.exported.size).toBe(0);
    expect(hw.pins().size).toBe(0);
    await hw.close(); // twice is harmless
  });

  it('on a Pi 5 with auto: onoff at base 571 without trying pigpio', async () => {
    const { options, onoff, pigpioCalls, base } = await setup(5);
    const hw = await openPiHardware(config(), options);
    expect(base).toBe(571);
    expect(hw.chip.isPi5).toBe(true);
    expect(hw.stepperLibrary).toBe('onoff');
    expect(hw.stepper.description).toBe('A4988 on BCM 20/21, EN 16 via onoff (software-timed)');
    expect(pigpioCalls).toEqual([]);
    expect(onoff.opened.map((o) => [o.pin, o.direction])).toEqual([
      [591, 'low'],
      [592, 'low'],
      [587, 'high'],
      [597, 'in'],
      [590, 'low'],
    ]);
    await hw.close();
    expect(onoff.exported.size).toBe(0);
  });

  it('falls back to onoff when pigpio will not load, and logs why', async () => {
    const { options, logs } = await setup(4, false);
    const hw = await openPiHardware(config(), options);
    expect(hw.stepperLibrary).toBe('onoff');
    expect(logs[0]).toEqual({
      details: { reason: 'pigpio needs root (test)' },
      message: 'pigpio unavailable: the stepper uses onoff (software-timed)',
    });
    await hw.close();
  });

  it("refuses stage.gpio 'pigpio' on a Pi 5 with the reason", async () => {
    const { options } = await setup(5);
    const withDefaultLoader = { ...options, loadPigpio: undefined };
    const opening = openPiHardware(config({ stage: { gpio: 'pigpio' } }), withDefaultLoader);
    await expect(opening).rejects.toMatchObject({ code: 'GPIO_UNAVAILABLE' });
    await expect(opening).rejects.toThrow(/pigpio does not support the Raspberry Pi 5/);
  });

  it('refuses a button on the STEP pin, naming both owners, and releases everything it had opened', async () => {
    const { options, onoff, pigpio } = await setup(4);
    const opening = openPiHardware(config({ button: { pin: 20 } }), options);
    await expect(opening).rejects.toThrow(
      'BCM pin 20 is wanted by button but already reserved by stage STEP',
    );
    expect(pigpio.terminated).toBe(true);
    expect(onoff.exported.size).toBe(0);
  });

  it('unexports the pins it opened when a later pin is busy', async () => {
    const { options, onoff } = await setup(5);
    onoff.failOpen.set(571 + 19, 'EBUSY');
    const opening = openPiHardware(config(), options);
    await expect(opening).rejects.toThrow(
      /BCM 19 \(sysfs GPIO 590\) for LED: the pin is in use by a kernel driver/,
    );
    expect(onoff.opened.length).toBeGreaterThan(3);
    expect(onoff.exported.size).toBe(0);
  });

  it('gives a ULN2003 onoff under auto, and a limit switch pulled up through pigpio', async () => {
    const uln = await setup(4);
    const stage = { driver: { type: 'uln2003', pins: [6, 13, 12, 25] }, limitSwitch: { pin: 5 } };
    const hw = await openPiHardware(rigSchema.parse({ stage }), uln.options);
    expect(hw.stepper.description).toBe(
      'ULN2003 (28BYJ-48, half steps) on BCM 6/13/12/25, limit switch 5 via onoff (software-timed)',
    );
    expect(hw.stepper.hasLimitSwitch).toBe(true);
    expect(uln.pigpioCalls).toEqual([]);
    expect(hw.button).toBeUndefined();
    await hw.close();

    const a4988 = await setup(4);
    const withSwitch = await openPiHardware(
      rigSchema.parse({ stage: { limitSwitch: { pin: 5 } } }),
      a4988.options,
    );
    expect(a4988.pigpio.modes.get(5)).toEqual({ mode: 0, pullUpDown: 2 });
    expect(withSwitch.pins().get(5)).toBe('stage limit switch');
    await withSwitch.close();
  });

  it('warns when an active-low button reads pressed at start-up (no pull-up: sysfs cannot set one)', async () => {
    const { options, onoff, logs, base } = await setup(5);
    onoff.levels.set(base + 26, 0);
    const hw = await openPiHardware(config(), options);
    expect(logs.map((l) => l.message)).toContain(
      'The button on BCM 26 reads active at start-up: unless it is pressed, the pin needs a pull-up ' +
        '(add gpio=26=pu to /boot/firmware/config.txt, or wire a resistor)',
    );
    await hw.close();
  });

  it('fails clearly off a Pi', async () => {
    const { options } = await setup(4);
    await expect(openPiHardware(config(), { ...options, sysfsRoot: '/nonexistent-sysfs' })).rejects.toThrow(
      /not a Raspberry Pi/,
    );
  });
});
