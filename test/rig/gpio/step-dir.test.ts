// Checks the STEP/DIR backend's pin timeline over fake onoff (software-timed) and fake pigpio (DMA waves):
// EN and DIR before STEP, one pulse per step at the asked intervals, direction, abort, the limit switch.

import { describe, expect, it } from 'vitest';
import type { StepDirDriverConfig } from '../../../src/config/schema.js';
import { onoffInput, onoffOutput, pigpioOutput, pigpioInput } from '../../../src/rig/gpio/libraries.js';
import type { PinClaim } from '../../../src/rig/gpio/pins.js';
import { BURST_US, SLEEP_ABOVE_US } from '../../../src/rig/gpio/soft-timing.js';
import { STEP_DIR_TIMING, StepDirBackend } from '../../../src/rig/gpio/step-dir.js';
import { StackscopeError } from '../../../src/errors.js';
import { FakeOnoff, VirtualClock } from '../../fakes/fake-onoff.js';
import { FakePigpio } from '../../fakes/fake-pigpio.js';

const BASE = 512;
const [STEP, DIR, EN, LIMIT] = [20, 21, 16, 5];
const claim = (bcm: number, owner: string): PinClaim => ({ bcm, sysfs: BASE + bcm, owner });
const driver = (invertDirection = false): StepDirDriverConfig => ({
  type: 'a4988',
  stepPin: STEP,
  dirPin: DIR,
  enablePin: EN,
  microsteps: 16,
  invertDirection,
});

function onoffRig(options: { invert?: boolean; limit?: boolean; enable?: boolean } = {}) {
  const clock = new VirtualClock();
  const fake = new FakeOnoff(clock);
  fake.levels.set(BASE + LIMIT, 1); // active-low switch, released
  const backend = new StepDirBackend({
    driver: driver(options.invert),
    pins: {
      step: onoffOutput(fake.module, claim(STEP, 'STEP'), 0),
      dir: onoffOutput(fake.module, claim(DIR, 'DIR'), 0),
      enable: options.enable === false ? undefined : onoffOutput(fake.module, claim(EN, 'EN'), 1),
    },
    limitSwitch: options.limit
      ? { input: onoffInput(fake.module, claim(LIMIT, 'limit')), activeLow: true }
      : undefined,
    engine: 'software',
    library: 'onoff',
    clock,
  });
  return { clock, fake, backend, pin: (bcm: number) => BASE + bcm };
}

const never = () => new AbortController().signal;
const gaps = (edges: number[]) => edges.slice(1).map((t, i) => t - edges[i]);

describe('StepDirBackend over onoff (software-timed)', () => {
  it('enables low, sets DIR before the first STEP, pulses once per interval, and disables high', async () => {
    const { fake, backend, pin } = onoffRig();
    expect(backend.description).toBe('A4988 on BCM 20/21, EN 16 via onoff (software-timed)');
    await backend.setEnabled(true);
    const intervals = Uint32Array.from([100, 300, 300, 250, 1000]);
    const run = await backend.step(1, intervals, never());
    await backend.setEnabled(false);

    expect(run).toEqual({ steps: 5, exact: true, hitLimit: false });
    const en = fake.of(pin(EN));
    expect(en.map((e) => e.value)).toEqual([1, 0, 1]);
    const dir = fake.of(pin(DIR));
    expect(dir.map((e) => e.value)).toEqual([0, 1]);
    const edges = fake.risingEdges(pin(STEP));
    expect(edges).toHaveLength(5);
    expect(en[1].tUs).toBeLessThanOrEqual(dir[1].tUs);
    expect(edges[0] - dir[1].tUs).toBe(100);
    expect(gaps(edges)).toEqual([300, 300, 250, 1000]);
    // Each pulse: high for the driver's minimum (with margin), then low again.
    const step = fake.of(pin(STEP)).slice(1);
    for (let i = 0; i < step.length; i += 2) {
      expect(step[i].value).toBe(1);
      expect(step[i + 1].value).toBe(0);
      expect(step[i + 1].tUs - step[i].tUs).toBe(STEP_DIR_TIMING.stepHighUs);
    }
    expect(en[2].tUs).toBeGreaterThan(step[step.length - 1].tUs - 1);
  });

  it('waits at least the DIR setup time even when asked for less', async () => {
    const { fake, backend, pin } = onoffRig();
    await backend.step(-1, Uint32Array.from([0, 50]), never());
    const dirAt = fake.of(pin(DIR)).at(-1)!.tUs;
    expect(fake.risingEdges(pin(STEP))[0] - dirAt).toBeGreaterThanOrEqual(STEP_DIR_TIMING.dirSetupUs);
    expect(STEP_DIR_TIMING.dirSetupUs).toBeGreaterThanOrEqual(5);
  });

  it('honours invertDirection', async () => {
    const levels = async (invert: boolean) => {
      const { fake, backend, pin } = onoffRig({ invert });
      await backend.step(1, Uint32Array.from([100]), never());
      await backend.step(-1, Uint32Array.from([100]), never());
      return fake
        .of(pin(DIR))
        .slice(1)
        .map((e) => e.value);
    };
    expect(await levels(false)).toEqual([1, 0]);
    expect(await levels(true)).toEqual([0, 1]);
  });

  it('enables a disabled driver before stepping, so no step is lost', async () => {
    const { fake, backend, pin } = onoffRig();
    await backend.step(1, Uint32Array.from([100, 100]), never());
    const enLow = fake.of(pin(EN))[1];
    expect(enLow.value).toBe(0);
    expect(enLow.tUs).toBeLessThanOrEqual(fake.risingEdges(pin(STEP))[0]);
  });

  it('stops within one step of an abort', async () => {
    const { clock, fake, backend, pin } = onoffRig();
    const abort = new AbortController();
    const abortAt = 4_500;
    clock.at(abortAt, () => abort.abort());
    const run = await backend.step(1, new Uint32Array(10).fill(1000), abort.signal);
    const edges = fake.risingEdges(pin(STEP));
    expect(run).toEqual({ steps: 4, exact: true, hitLimit: false });
    expect(edges).toHaveLength(4);
    expect(edges.every((t) => t < abortAt)).toBe(true);
  });

  it('stops at the first step the limit switch is active, with untilLimit', async () => {
    const { clock, fake, backend, pin } = onoffRig({ limit: true });
    expect(backend.hasLimitSwitch).toBe(true);
    clock.at(7_200, () => fake.setInput(pin(LIMIT), 0));
    const run = await backend.step(-1, new Uint32Array(50).fill(1000), never(), { untilLimit: true });
    expect(run).toEqual({ steps: 7, exact: true, hitLimit: true });
    expect(fake.risingEdges(pin(STEP)).every((t) => t < 7_200)).toBe(true);
  });

  it('ignores the limit switch without untilLimit, and refuses untilLimit without a switch', async () => {
    const withSwitch = onoffRig({ limit: true });
    withSwitch.fake.setInput(withSwitch.pin(LIMIT), 0);
    const run = await withSwitch.backend.step(1, new Uint32Array(5).fill(500), never());
    expect(run).toEqual({ steps: 5, exact: true, hitLimit: false });

    const { backend } = onoffRig();
    await expect(
      backend.step(1, Uint32Array.from([100]), never(), { untilLimit: true }),
    ).rejects.toMatchObject({
      code: 'STAGE_NO_HOMING',
    });
  });

  it('never blocks the event loop for more than a burst and one interval', async () => {
    const { clock, backend } = onoffRig();
    // 3 000 fast steps (320 µs apart): a second of busy-waiting if it never yielded.
    const run = await backend.step(1, new Uint32Array(3000).fill(320), never());
    expect(run.steps).toBe(3000);
    expect(clock.longestSpinUs).toBeLessThanOrEqual(BURST_US + SLEEP_ABOVE_US + STEP_DIR_TIMING.stepHighUs);
    expect(clock.sleeps).toBeGreaterThan(100);
  });

  it('runs one move at a time, and close stops it, disables the motor and unexports every pin', async () => {
    const { clock, fake, backend, pin } = onoffRig({ limit: true });
    await backend.setEnabled(true);
    clock.at(25_000, () => void backend.close());
    const first = backend.step(1, new Uint32Array(100).fill(10_000), never());
    await expect(backend.step(1, Uint32Array.from([100]), never())).rejects.toMatchObject({
      code: 'STAGE_BUSY',
    });
    const run = await first;
    expect(run.steps).toBe(2);
    await backend.close();
    expect(fake.of(pin(EN)).at(-1)!.value).toBe(1);
    expect(fake.exported.size).toBe(0);
    await expect(backend.step(1, Uint32Array.from([100]), never())).rejects.toBeInstanceOf(StackscopeError);
  });

  it('without an EN pin is always enabled and says so in its description', async () => {
    const { fake, backend, pin } = onoffRig({ enable: false });
    expect(backend.description).toBe('A4988 on BCM 20/21 via onoff (software-timed)');
    await backend.setEnabled(false);
    await backend.step(1, Uint32Array.from([100, 100]), never());
    expect(fake.risingEdges(pin(STEP))).toHaveLength(2);
  });
});

function pigpioRig(limit = false) {
  const clock = new VirtualClock();
  const fake = new FakePigpio(clock);
  const pigpio = fake.module;
  const backend = new StepDirBackend({
    driver: driver(),
    pins: {
      step: pigpioOutput(pigpio, claim(STEP, 'STEP'), 0),
      dir: pigpioOutput(pigpio, claim(DIR, 'DIR'), 0),
      enable: pigpioOutput(pigpio, claim(EN, 'EN'), 1),
    },
    limitSwitch: limit
      ? { input: pigpioInput(pigpio, claim(LIMIT, 'limit'), true), activeLow: true }
      : undefined,
    engine: { pigpio },
    library: 'pigpio',
    clock,
  });
  fake.levels.set(LIMIT, 1);
  return { clock, fake, backend };
}

/** A trapezoid: `ramp` falling intervals, a cruise at `cruiseUs`, the same ramp back. */
function trapezoid(steps: number, ramp: number, cruiseUs: number): Uint32Array {
  const out = new Uint32Array(steps);
  for (let i = 0; i < steps; i++) {
    const fromEnd = Math.min(i, steps - 1 - i);
    out[i] = fromEnd < ramp ? cruiseUs + Math.round(3000 / Math.sqrt(fromEnd + 1)) : cruiseUs;
  }
  return out;
}

describe('StepDirBackend over pigpio (DMA waves)', () => {
  it('sends a 50 000-step move as one chain whose pulses reproduce every interval', async () => {
    const { fake, backend } = pigpioRig();
    expect(backend.description).toBe('A4988 on BCM 20/21, EN 16 via pigpio waves');
    const intervals = trapezoid(50_000, 400, 312);
    await backend.setEnabled(true);
    const run = await backend.step(1, intervals, never());
    expect(run).toEqual({ steps: 50_000, exact: true, hitLimit: false });

    expect(fake.chains).toHaveLength(1);
    const edges = fake.chainEdges(0, STEP);
    expect(edges).toHaveLength(50_000);
    expect(edges[0]).toBe(intervals[0]);
    expect(gaps(edges)).toEqual(Array.from(intervals.subarray(1)));
    // DIR (digitalWrite) was set before the chain started.
    const dir = fake.timeline.filter((e) => e.pin === DIR).at(-1)!;
    expect(dir).toMatchObject({ value: 1 });
    expect(dir.tUs).toBeLessThanOrEqual(fake.chains[0].startUs);
    expect(fake.chains[0].bytes.length).toBeLessThanOrEqual(600);
    expect(fake.created.every((w) => w.pulses.length <= 12_000)).toBe(true);
    expect(fake.live.size).toBe(0); // every wave deleted
  });

  it('stops the DMA on abort and reports an estimated, inexact step count', async () => {
    const { clock, fake, backend } = pigpioRig();
    const intervals = trapezoid(50_000, 400, 312);
    const abort = new AbortController();
    clock.at(3_000_000, () => abort.abort());
    const run = await backend.step(1, intervals, abort.signal);

    expect(fake.stops).toEqual([3_000_000]);
    const elapsed = fake.stops[0] - fake.chains[0].startUs;
    const truth = fake.chainEdges(0, STEP).filter((t) => t <= elapsed).length;
    expect(run).toEqual({ steps: truth, exact: false, hitLimit: false });
    expect(truth).toBeGreaterThan(5000);
    expect(truth).toBeLessThan(50_000);
    expect(fake.timeline.filter((e) => e.pin === STEP).at(-1)).toMatchObject({ value: 0, tUs: 3_000_000 });
    expect(fake.live.size).toBe(0);
  });

  it('splits a move with no repeats into chains that each fit the wave memory', async () => {
    const { fake, backend } = pigpioRig();
    const intervals = Uint32Array.from({ length: 12_000 }, (_, i) => 400 + (i % 2));
    const run = await backend.step(1, intervals, never());
    expect(run).toEqual({ steps: 12_000, exact: true, hitLimit: false });
    expect(fake.chains.length).toBeGreaterThan(1);
    expect(fake.peakLivePulses).toBeLessThanOrEqual(12_000);
    const counts = fake.chains.map((_, i) => fake.chainEdges(i, STEP).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(12_000);
    // Within each chain the gaps are the asked intervals.
    let first = 0;
    fake.chains.forEach((_, i) => {
      const edges = fake.chainEdges(i, STEP);
      expect(gaps(edges)).toEqual(Array.from(intervals.subarray(first + 1, first + edges.length)));
      first += edges.length;
    });
  });

  it('homes software-timed over pigpio pins so the switch is read before every step', async () => {
    const { clock, fake, backend } = pigpioRig(true);
    clock.at(5_500, () => fake.levels.set(LIMIT, 0));
    const run = await backend.step(-1, new Uint32Array(100).fill(1000), never(), { untilLimit: true });
    expect(run).toEqual({ steps: 5, exact: true, hitLimit: true });
    expect(fake.chains).toHaveLength(0);
    expect(fake.timeline.filter((e) => e.pin === STEP && e.value === 1)).toHaveLength(5);
  });

  it('turns a pigpio failure into GPIO_UNAVAILABLE and deletes the waves it made', async () => {
    const { fake, backend } = pigpioRig();
    fake.module.waveChain = () => {
      throw new Error('pigpio error -36 in gpioWaveChain');
    };
    const failing = backend.step(1, trapezoid(1000, 100, 400), never());
    await expect(failing).rejects.toMatchObject({ code: 'GPIO_UNAVAILABLE' });
    await expect(failing).rejects.toThrow(/could not send steps 0–999.*gpioWaveChain/);
    expect(fake.created.length).toBeGreaterThan(0);
    expect(fake.live.size).toBe(0);
  });

  it('refuses intervals too short for a pulse before any pin moves', async () => {
    const { fake, backend } = pigpioRig();
    const writes = fake.timeline.length;
    await expect(backend.step(1, Uint32Array.from([100, 4]), never())).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
    expect(fake.timeline).toHaveLength(writes);
  });

  it('clears pigpio waves and disables the motor on close', async () => {
    const { fake, backend } = pigpioRig();
    await backend.setEnabled(true);
    await backend.close();
    expect(fake.clears).toBe(1);
    expect(fake.levels.get(EN)).toBe(1);
  });
});
