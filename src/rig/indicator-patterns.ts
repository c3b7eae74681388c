// The status LED's blink pattern for each IndicatorState, as data plus the on/off timeline it gives;
// shared by the GPIO LED (rig/gpio/indicator.ts) and the simulated rig's LED, so both blink alike.

import type { IndicatorState } from './types.js';

/**
 * Either a steady level, or a cycle of durations (ms) alternating on, off, on, off…, starting on,
 * repeated for as long as the state lasts.
 */
export type BlinkPattern = { readonly steady: boolean } | { readonly cycleMs: readonly number[] };

export const INDICATOR_PATTERNS: Readonly<Record<IndicatorState, BlinkPattern>> = {
  off: { steady: false },
  /** A short blink every 2 s: alive, not in the way. */
  idle: { cycleMs: [100, 1900] },
  /** Fast blink while frames are being taken. */
  capturing: { cycleMs: [100, 100] },
  /** Steady on while the last frames are merged. */
  stacking: { steady: true },
  /** Three quick flashes, then a pause, again and again: unlike any other state. */
  error: { cycleMs: [150, 150, 150, 150, 150, 1000] },
};

/** One change of the LED: from `atMs` on, it is `on`. */
export interface LedChange {
  atMs: number;
  on: boolean;
}

/** The LED's changes during the first `durationMs` of `state` (the first at 0 ms: its level on entry). */
export function indicatorTimeline(state: IndicatorState, durationMs: number): LedChange[] {
  const pattern = INDICATOR_PATTERNS[state];
  if ('steady' in pattern) return [{ atMs: 0, on: pattern.steady }];
  const changes: LedChange[] = [];
  let atMs = 0;
  for (let i = 0; atMs < durationMs; i++) {
    changes.push({ atMs, on: i % 2 === 0 });
    atMs += pattern.cycleMs[i % pattern.cycleMs.length];
  }
  return changes;
}

/** Whether the LED is on `tMs` after entering `state`. */
export function indicatorLevelAt(state: IndicatorState, tMs: number): boolean {
  const pattern = INDICATOR_PATTERNS[state];
  if ('steady' in pattern) return pattern.steady;
  const period = pattern.cycleMs.reduce((sum, ms) => sum + ms, 0);
  let t = ((tMs % period) + period) % period;
  for (let i = 0; i < pattern.cycleMs.length; i++) {
    if (t < pattern.cycleMs[i]) return i % 2 === 0;
    t -= pattern.cycleMs[i];
  }
  return false;
}
