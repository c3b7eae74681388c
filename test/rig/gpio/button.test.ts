// Checks the GPIO button on fake onoff with fake timers: bounces shorter than debounceMs are ignored,
// a release before longPressMs is a short press, and a long press fires once, at the threshold, while held.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GpioButton } from '../../../src/rig/gpio/button.js';
import { openOnoff } from '../../../src/rig/gpio/libraries.js';
import type { PressKind } from '../../../src/rig/types.js';
import { FakeOnoff } from '../../fakes/fake-onoff.js';

const PIN = 512 + 26;
const CONFIG = { activeLow: true, debounceMs: 30, longPressMs: 1500 };

function rig(config = CONFIG, initial: 0 | 1 = config.activeLow ? 1 : 0) {
  const fake = new FakeOnoff();
  fake.levels.set(PIN, initial);
  const warnings: string[] = [];
  const gpio = openOnoff(fake.module, { bcm: 26, sysfs: PIN, owner: 'button' }, 'in', 'both');
  const button = new GpioButton(config, gpio, {
    logger: { warn: (_d, message) => void warnings.push(message) },
  });
  const presses: { kind: PressKind; atMs: number }[] = [];
  button.onPress((kind) => presses.push({ kind, atMs: Date.now() }));
  const down = config.activeLow ? 0 : 1;
  const press = () => fake.setInput(PIN, down);
  const release = () => fake.setInput(PIN, down === 0 ? 1 : 0);
  return { fake, button, presses, press, release, warnings, kinds: () => presses.map((p) => p.kind) };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GpioButton', () => {
  it('watches edge interrupts on both edges', () => {
    const { fake } = rig();
    expect(fake.opened).toEqual([{ pin: PIN, direction: 'in', edge: 'both' }]);
    expect(fake.watching(PIN)).toBe(true);
  });

  it('ignores bounces shorter than debounceMs', () => {
    const { press, release, kinds } = rig();
    for (let i = 0; i < 4; i++) {
      press();
      vi.advanceTimersByTime(5);
      release();
      vi.advanceTimersByTime(5);
    }
    press();
    vi.advanceTimersByTime(CONFIG.debounceMs - 1);
    release();
    vi.advanceTimersByTime(5000);
    expect(kinds()).toEqual([]);
  });

  it('reports a short press once the release has held, through bouncy contacts', () => {
    const { press, release, presses } = rig();
    press();
    vi.advanceTimersByTime(3);
    release();
    vi.advanceTimersByTime(2);
    press(); // the contacts settle closed at 5 ms
    vi.advanceTimersByTime(400);
    release();
    vi.advanceTimersByTime(4);
    press();
    vi.advanceTimersByTime(1);
    release(); // settles open at 410 ms
    vi.advanceTimersByTime(CONFIG.debounceMs - 1);
    expect(presses).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(presses).toEqual([{ kind: 'short', atMs: 410 + CONFIG.debounceMs }]);
    vi.advanceTimersByTime(5000);
    expect(presses).toHaveLength(1);
  });

  it('fires a long press once, at the threshold, while the button is still held', () => {
    const { press, release, presses, kinds } = rig();
    press();
    vi.advanceTimersByTime(CONFIG.longPressMs - 1);
    expect(presses).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(presses).toEqual([{ kind: 'long', atMs: CONFIG.longPressMs }]);
    vi.advanceTimersByTime(10_000);
    release();
    vi.advanceTimersByTime(1000);
    expect(kinds()).toEqual(['long']);
    // The next press starts afresh.
    press();
    vi.advanceTimersByTime(200);
    release();
    vi.advanceTimersByTime(100);
    expect(kinds()).toEqual(['long', 'short']);
  });

  it('reads an active-high button the other way round', () => {
    const { press, release, kinds } = rig({ ...CONFIG, activeLow: false });
    press();
    vi.advanceTimersByTime(100);
    release();
    vi.advanceTimersByTime(100);
    expect(kinds()).toEqual(['short']);
  });

  it('does not fire for a button held at start-up until it is pressed again', () => {
    const { press, release, kinds } = rig(CONFIG, 0);
    vi.advanceTimersByTime(3000);
    release();
    vi.advanceTimersByTime(100);
    expect(kinds()).toEqual([]);
    press();
    vi.advanceTimersByTime(100);
    release();
    vi.advanceTimersByTime(100);
    expect(kinds()).toEqual(['short']);
  });

  it('keeps calling listeners when one throws, unsubscribes, and logs interrupt errors', () => {
    const { fake, button, press, release, kinds, warnings } = rig();
    const unsubscribe = button.onPress(() => {
      throw new Error('listener bug');
    });
    press();
    vi.advanceTimersByTime(100);
    release();
    vi.advanceTimersByTime(100);
    expect(kinds()).toEqual(['short']);
    expect(warnings).toEqual(['button: a press listener threw']);
    unsubscribe();
    fake.failWatch(PIN, new Error('epoll failed'));
    expect(warnings).toEqual(['button: a press listener threw', 'button: GPIO interrupt error']);
  });

  it('stops listening and unexports on close, even mid-press', async () => {
    const { fake, button, press, kinds } = rig();
    press();
    vi.advanceTimersByTime(100);
    await button.close();
    vi.advanceTimersByTime(5000);
    expect(kinds()).toEqual([]);
    expect(fake.watching(PIN)).toBe(false);
    expect(fake.exported.has(PIN)).toBe(false);
  });
});
