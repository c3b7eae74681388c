// Checks the simulated focus motor: steps take the time their intervals say (scaled, in batched timers),
// runs abort part-way with an exact count, the carriage follows through backlash play, the switch trips.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StackscopeError } from '../../../src/errors.js';
import { SimulatedMotor } from '../../../src/rig/simulated/motor.js';

/** 1 µm per step keeps the arithmetic readable. */
const STEPS_PER_MM = 1000;
const even = (steps: number, us: number) => new Uint32Array(steps).fill(us);

async function enabledMotor(options: Partial<ConstructorParameters<typeof SimulatedMotor>[0]> = {}) {
  const motor = new SimulatedMotor({ stepsPerMm: STEPS_PER_MM, ...options });
  await motor.setEnabled(true);
  return motor;
}

describe('SimulatedMotor timing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes the time the intervals say at timeScale 1, never running ahead of them', async () => {
    const motor = await enabledMotor();
    const run = motor.step(1, even(100, 1000), new AbortController().signal); // 100 ms
    let settled = false;
    void run.then(() => (settled = true));
    for (let ms = 10; ms < 100; ms += 10) {
      await vi.advanceTimersByTimeAsync(10);
      // Steps are due every 1 ms: by `ms`, exactly `ms` are due; a batch may lag, never lead.
      expect(motor.motorSteps()).toBeLessThanOrEqual(ms);
      expect(motor.motorSteps()).toBeGreaterThanOrEqual(ms - 10);
      expect(settled).toBe(false);
    }
    await vi.advanceTimersByTimeAsync(10);
    expect(await run).toEqual({ steps: 100, exact: true, hitLimit: false });
    expect(motor.motorSteps()).toBe(100);
  });

  it('runs timeScale times faster', async () => {
    const motor = await enabledMotor({ timeScale: 100 });
    const run = motor.step(1, even(1000, 1000), new AbortController().signal); // 1 s of motor time
    let settled = false;
    void run.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(9);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2); // 11 ms of real time cover 1.1 s of motor time
    expect(settled).toBe(true);
    expect((await run).steps).toBe(1000);
  });

  it('uses batched timers, not one per step', async () => {
    const motor = await enabledMotor();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const run = motor.step(1, even(2000, 250), new AbortController().signal); // 500 ms, 2000 steps
    await vi.advanceTimersByTimeAsync(600);
    expect((await run).steps).toBe(2000);
    expect(timers.mock.calls.length).toBeGreaterThan(0);
    expect(timers.mock.calls.length).toBeLessThanOrEqual(500 / 10 + 2);
    timers.mockRestore();
  });

  it('stops when the signal aborts, counting exactly the steps it made', async () => {
    const motor = await enabledMotor({ startUm: 50 });
    const controller = new AbortController();
    const run = motor.step(-1, even(1000, 1000), controller.signal); // 1 s
    await vi.advanceTimersByTimeAsync(123);
    controller.abort();
    const result = await run;
    expect(result.exact).toBe(true);
    expect(result.steps).toBeGreaterThan(100);
    expect(result.steps).toBeLessThanOrEqual(123);
    expect(motor.motorSteps()).toBe(50 - result.steps);
  });

  it('makes no step at all for a signal aborted before the run', async () => {
    const motor = await enabledMotor();
    const controller = new AbortController();
    controller.abort();
    expect(await motor.step(1, even(10, 100), controller.signal)).toEqual({
      steps: 0,
      exact: true,
      hitLimit: false,
    });
    expect(motor.motorSteps()).toBe(0);
  });
});

describe('SimulatedMotor mechanics', () => {
  const fast = { timeScale: 1e6 };
  const go = (motor: SimulatedMotor, direction: 1 | -1, steps: number, untilLimit = false) =>
    motor.step(direction, even(steps, 100), new AbortController().signal, { untilLimit });

  it('moves the carriage only once the motor has taken up the play in the new direction', async () => {
    const motor = await enabledMotor({ ...fast, playUm: 5, startUm: 100 });
    expect(motor.carriageUm()).toBe(100);
    await go(motor, 1, 10);
    expect(motor.carriageUm()).toBe(110); // pushed from below: carriage on the motor
    await go(motor, -1, 3);
    expect(motor.carriageUm()).toBe(110); // motor 107: still inside the play
    await go(motor, -1, 4);
    expect(motor.carriageUm()).toBe(108); // motor 103: pulled down, play behind it
    await go(motor, 1, 2);
    expect(motor.carriageUm()).toBe(108); // motor 105: crossing the play again
    await go(motor, 1, 4);
    expect(motor.carriageUm()).toBe(109); // motor 109: pushing again
    expect(motor.motorSteps()).toBe(109);
  });

  it('ignores steps while the driver is disabled, as real hardware does', async () => {
    const motor = new SimulatedMotor({ stepsPerMm: STEPS_PER_MM, ...fast });
    const result = await go(motor, 1, 20);
    expect(result.steps).toBe(20); // issued…
    expect(motor.motorSteps()).toBe(0); // …but the motor did not turn
    expect(motor.carriageUm()).toBe(0);
  });

  it('stops at the limit switch when asked, reporting hitLimit', async () => {
    const motor = await enabledMotor({ ...fast, playUm: 5, startUm: 50, limitSwitchAtUm: 10 });
    expect(motor.hasLimitSwitch).toBe(true);
    const result = await go(motor, -1, 500, true);
    expect(result.hitLimit).toBe(true);
    expect(motor.carriageUm()).toBe(10);
    // The motor crossed the play before the carriage moved: it sits 5 µm below the carriage.
    expect(motor.motorSteps()).toBe(5);
    expect(result.steps).toBe(45);
    expect(motor.limitActive()).toBe(true);
  });

  it('reports an already active switch without stepping, and passes it when not asked to stop', async () => {
    const motor = await enabledMotor({ ...fast, startUm: 0, limitSwitchAtUm: 10 });
    expect(await go(motor, -1, 50, true)).toEqual({ steps: 0, exact: true, hitLimit: true });
    expect((await go(motor, -1, 7)).hitLimit).toBe(false);
    expect(motor.motorSteps()).toBe(-7);
  });

  it('has no limit switch unless one is placed', () => {
    const motor = new SimulatedMotor({ stepsPerMm: STEPS_PER_MM });
    expect(motor.hasLimitSwitch).toBe(false);
    expect(motor.limitActive()).toBe(false);
    expect(motor.description).toContain('simulated');
  });

  it('refuses a second run while one is going, and any run once closed', async () => {
    const motor = await enabledMotor({ timeScale: 1 });
    const controller = new AbortController();
    const first = motor.step(1, even(1000, 1000), controller.signal);
    await expect(motor.step(1, even(1, 1), controller.signal)).rejects.toMatchObject({ code: 'STAGE_BUSY' });
    controller.abort();
    await first;
    await motor.close();
    expect(motor.isEnabled()).toBe(false);
    await expect(go(motor, 1, 1)).rejects.toBeInstanceOf(StackscopeError);
  });

  it('starts at startUm rounded to whole steps', () => {
    const motor = new SimulatedMotor({ stepsPerMm: 16000, startUm: 123.4 });
    expect(motor.motorSteps()).toBe(1974);
    expect(motor.carriageUm()).toBe(123.375);
  });
});
