// Checks the ULN2003 / 28BYJ-48 backend on fake onoff: the 8-phase half-step sequence both ways, the
// phase carried across moves and reversals, one coil write per step, and all coils off when disabled.

import { describe, expect, it } from 'vitest';
import { onoffInput, onoffOutput, type Level } from '../../../src/rig/gpio/libraries.js';
import { HALF_STEP_SEQUENCE, Uln2003Backend } from '../../../src/rig/gpio/uln2003.js';
import { FakeOnoff, VirtualClock } from '../../fakes/fake-onoff.js';

const BASE = 512;
const IN = [6, 13, 19, 26];
const LIMIT = 5;

function rig(options: { invert?: boolean; limit?: boolean } = {}) {
  const clock = new VirtualClock();
  const fake = new FakeOnoff(clock);
  const out = (bcm: number, i: number) =>
    onoffOutput(fake.module, { bcm, sysfs: BASE + bcm, owner: `IN${i + 1}` }, 0);
  const [a, b, c, d] = IN.map(out);
  fake.levels.set(BASE + LIMIT, 1);
  const backend = new Uln2003Backend({
    driver: { type: 'uln2003', pins: [6, 13, 19, 26], invertDirection: options.invert ?? false },
    pins: [a, b, c, d],
    limitSwitch: options.limit
      ? {
          input: onoffInput(fake.module, { bcm: LIMIT, sysfs: BASE + LIMIT, owner: 'limit' }),
          activeLow: true,
        }
      : undefined,
    library: 'onoff',
    clock,
  });
  const coilPins = new Set(IN.map((bcm) => BASE + bcm));
  /** Coil levels now. */
  const coils = (): Level[] => IN.map((bcm) => (fake.levels.get(BASE + bcm) ?? 0) as Level);
  /** The coil state after each coil write from event index `from` on. */
  const statesSince = (from: number): Level[][] => {
    const levels = new Map<number, Level>();
    for (const e of fake.timeline.slice(0, from)) if (coilPins.has(e.pin)) levels.set(e.pin, e.value);
    const states: Level[][] = [];
    for (const e of fake.timeline.slice(from)) {
      if (!coilPins.has(e.pin)) continue;
      levels.set(e.pin, e.value);
      states.push(IN.map((bcm) => levels.get(BASE + bcm) ?? 0));
    }
    return states;
  };
  return { clock, fake, backend, coils, statesSince, mark: () => fake.timeline.length };
}

const never = () => new AbortController().signal;
const even = (n: number, us = 2000) => new Uint32Array(n).fill(us);

describe('Uln2003Backend', () => {
  it('energises the held phase when enabled and walks the 8 half steps forward, one coil write each', async () => {
    const { backend, coils, statesSince, mark } = rig();
    expect(backend.description).toBe(
      'ULN2003 (28BYJ-48, half steps) on BCM 6/13/19/26 via onoff (software-timed)',
    );
    await backend.setEnabled(true);
    expect(coils()).toEqual([1, 0, 0, 0]);
    const from = mark();
    const run = await backend.step(1, even(8), never());
    expect(run).toEqual({ steps: 8, exact: true, hitLimit: false });
    expect(statesSince(from)).toEqual([...HALF_STEP_SEQUENCE.slice(1), HALF_STEP_SEQUENCE[0]]);
  });

  it('walks the sequence backwards for direction -1', async () => {
    const { backend, statesSince, mark } = rig();
    await backend.setEnabled(true);
    const from = mark();
    await backend.step(-1, even(8), never());
    expect(statesSince(from)).toEqual([7, 6, 5, 4, 3, 2, 1, 0].map((p) => HALF_STEP_SEQUENCE[p]));
  });

  it('keeps the phase across moves, reversals and disabling, so no step is skipped', async () => {
    const { backend, coils, statesSince, mark } = rig();
    await backend.setEnabled(true);
    await backend.step(1, even(3), never());
    expect(backend.phase).toBe(3);
    const from = mark();
    await backend.step(-1, even(2), never());
    expect(statesSince(from)).toEqual([HALF_STEP_SEQUENCE[2], HALF_STEP_SEQUENCE[1]]);
    await backend.setEnabled(false);
    expect(coils()).toEqual([0, 0, 0, 0]);
    await backend.setEnabled(true);
    expect(coils()).toEqual(HALF_STEP_SEQUENCE[1]);
    const again = mark();
    await backend.step(-1, even(2), never());
    expect(statesSince(again)).toEqual([HALF_STEP_SEQUENCE[0], HALF_STEP_SEQUENCE[7]]);
  });

  it('honours invertDirection', async () => {
    const { backend } = rig({ invert: true });
    await backend.step(1, even(3), never());
    expect(backend.phase).toBe(5);
  });

  it('steps at the asked intervals, enabling itself first', async () => {
    const { fake, backend } = rig();
    const intervals = Uint32Array.from([1500, 2000, 1200, 3000, 5000]);
    await backend.step(1, intervals, never());
    const times = fake.timeline.filter((e) => e.tUs > 0).map((e) => e.tUs);
    expect(times).toHaveLength(5);
    expect(times[0]).toBe(1500);
    expect(times.slice(1).map((t, i) => t - times[i])).toEqual([2000, 1200, 3000, 5000]);
  });

  it('stops at the limit switch with untilLimit, and on abort', async () => {
    const { clock, fake, backend } = rig({ limit: true });
    clock.at(6_500, () => fake.setInput(BASE + LIMIT, 0));
    expect(await backend.step(-1, even(20), never(), { untilLimit: true })).toEqual({
      steps: 3,
      exact: true,
      hitLimit: true,
    });
    const abort = new AbortController();
    clock.at(clock.nowUs() + 4_500, () => abort.abort());
    expect(await backend.step(1, even(20), abort.signal)).toEqual({ steps: 2, exact: true, hitLimit: false });
  });

  it('turns every coil off and unexports on close', async () => {
    const { fake, backend, coils } = rig({ limit: true });
    await backend.setEnabled(true);
    await backend.step(1, even(5), never());
    expect(coils()).not.toEqual([0, 0, 0, 0]);
    await backend.close();
    expect(coils()).toEqual([0, 0, 0, 0]);
    expect(fake.exported.size).toBe(0);
    await expect(backend.step(1, even(1), never())).rejects.toMatchObject({ code: 'GPIO_UNAVAILABLE' });
  });
});
