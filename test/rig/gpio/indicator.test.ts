// Checks the blink patterns (rig/indicator-patterns.ts) and the GPIO LED playing them with fake timers:
// idle blinks slowly, capturing fast, stacking is steady, error flashes three times, off is off.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GpioIndicator } from '../../../src/rig/gpio/indicator.js';
import { onoffOutput } from '../../../src/rig/gpio/libraries.js';
import {
  INDICATOR_PATTERNS,
  indicatorLevelAt,
  indicatorTimeline,
} from '../../../src/rig/indicator-patterns.js';
import type { IndicatorState } from '../../../src/rig/types.js';
import { FakeOnoff } from '../../fakes/fake-onoff.js';

const STATES: IndicatorState[] = ['off', 'idle', 'capturing', 'stacking', 'error'];
const onsIn = (state: IndicatorState, ms: number) => indicatorTimeline(state, ms).filter((c) => c.on).length;

describe('indicator patterns', () => {
  it('has a pattern per state, each blink cycle alternating on and off', () => {
    for (const state of STATES) {
      const pattern = INDICATOR_PATTERNS[state];
      if ('cycleMs' in pattern) {
        expect(pattern.cycleMs.length % 2).toBe(0);
        expect(pattern.cycleMs.every((ms) => ms > 0)).toBe(true);
      }
    }
  });

  it('keeps off off and stacking steadily on', () => {
    expect(indicatorTimeline('off', 10_000)).toEqual([{ atMs: 0, on: false }]);
    expect(indicatorTimeline('stacking', 10_000)).toEqual([{ atMs: 0, on: true }]);
    expect([0, 1234, 99_999].map((t) => indicatorLevelAt('stacking', t))).toEqual([true, true, true]);
  });

  it('blinks idle briefly every 2 s and capturing several times a second', () => {
    expect(indicatorTimeline('idle', 4000)).toEqual([
      { atMs: 0, on: true },
      { atMs: 100, on: false },
      { atMs: 2000, on: true },
      { atMs: 2100, on: false },
    ]);
    expect(onsIn('capturing', 1000)).toBe(5);
    expect(onsIn('idle', 1000)).toBe(1);
  });

  it('flashes error three times, then pauses, and repeats', () => {
    const timeline = indicatorTimeline('error', 3400);
    const flashes = timeline.filter((c) => c.on).map((c) => c.atMs);
    expect(flashes).toEqual([0, 300, 600, 1750, 2050, 2350]);
    // The pause is longer than any gap inside the triple, so the three read as one group.
    expect(flashes[3] - flashes[2]).toBeGreaterThan(3 * (flashes[1] - flashes[0]));
  });

  it('gives levels that agree with the timeline', () => {
    for (const state of STATES) {
      const changes = indicatorTimeline(state, 5000);
      changes.forEach((change, i) => {
        const end = changes[i + 1]?.atMs ?? 5000;
        for (const t of [change.atMs, Math.floor((change.atMs + end) / 2), end - 1]) {
          expect(indicatorLevelAt(state, t)).toBe(change.on);
        }
      });
    }
  });
});

describe('GpioIndicator', () => {
  const PIN = 512 + 19;
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  function led(activeLow = false) {
    const fake = new FakeOnoff({ nowUs: () => Date.now() * 1000 });
    const indicator = new GpioIndicator(
      { activeLow },
      onoffOutput(fake.module, { bcm: 19, sysfs: PIN, owner: 'LED' }, activeLow ? 1 : 0),
    );
    /** The LED (not the pin) as (ms, on) changes after the opening write. */
    const changes = () =>
      fake
        .of(PIN)
        .slice(1)
        .map((e) => ({ atMs: e.tUs / 1000, on: (e.value === 1) !== activeLow }));
    return { fake, indicator, changes };
  }

  it('plays the error pattern on the pin as the timeline says', () => {
    const { indicator, changes } = led();
    expect(indicator.state).toBe('off');
    indicator.show('error');
    vi.advanceTimersByTime(3399);
    const ons = changes()
      .slice(1)
      .filter((c) => c.on)
      .map((c) => c.atMs);
    expect(ons).toEqual(
      indicatorTimeline('error', 3400)
        .filter((c) => c.on)
        .map((c) => c.atMs),
    );
    expect(indicator.state).toBe('error');
  });

  it('switches patterns at once, keeps a pattern running when shown again, and honours activeLow', () => {
    const { fake, indicator } = led(true);
    indicator.show('idle');
    expect(fake.levels.get(PIN)).toBe(0); // on, active low
    vi.advanceTimersByTime(150);
    expect(fake.levels.get(PIN)).toBe(1); // off
    indicator.show('idle'); // no restart: stays off until 2 s
    vi.advanceTimersByTime(1800);
    expect(fake.levels.get(PIN)).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fake.levels.get(PIN)).toBe(0);
    indicator.show('stacking');
    vi.advanceTimersByTime(10_000);
    expect(fake.levels.get(PIN)).toBe(0);
    indicator.show('off');
    expect(fake.levels.get(PIN)).toBe(1);
  });

  it('turns the LED off, stops its timer and unexports on close', async () => {
    const { fake, indicator } = led();
    indicator.show('capturing');
    vi.advanceTimersByTime(50);
    await indicator.close();
    const writes = fake.of(PIN).length;
    vi.advanceTimersByTime(5000);
    expect(fake.of(PIN)).toHaveLength(writes);
    expect(fake.levels.get(PIN)).toBe(0);
    expect(fake.exported.size).toBe(0);
    indicator.show('error'); // ignored after close
    expect(indicator.state).toBe('off');
  });
});
