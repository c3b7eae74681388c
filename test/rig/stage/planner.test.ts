// Checks the step planner's ramps: exact step counts, the speed and acceleration limits (up to the 1 µs
// rounding), symmetric up/down ramps, triangles for short moves and the duration kinematics predict.

import { describe, expect, it } from 'vitest';
import { StackscopeError } from '../../../src/errors.js';
import { planStepIntervals, runDurationUs, type RampProfile } from '../../../src/rig/stage/planner.js';

const DEFAULTS: RampProfile = { maxSpeedUmPerS: 200, accelUmPerS2: 1000, stepsPerMm: 16000 };
const COARSE: RampProfile = { maxSpeedUmPerS: 150, accelUmPerS2: 400, stepsPerMm: 1000 };

const stepUmOf = (p: RampProfile) => 1000 / p.stepsPerMm;
/** Mean speed over each interval, µm/s. */
const speeds = (intervals: Uint32Array, p: RampProfile) =>
  Array.from(intervals, (us) => stepUmOf(p) / (us / 1e6));

/**
 * The smallest acceleration between intervals i and i+1 that exact (unrounded) intervals could have had:
 * the planner rounds up, so each exact interval lies in (I − 1, I] µs.
 */
function leastAccelerationWithinRounding(intervals: Uint32Array, i: number, p: RampProfile): number {
  const s = stepUmOf(p);
  const [a, b] = [intervals[i], intervals[i + 1]];
  const midpointGapS = (a + b) / 2 / 1e6;
  const speedingUp = b <= a;
  const dv = speedingUp ? s / (b / 1e6) - s / ((a - 1) / 1e6) : s / (a / 1e6) - s / ((b - 1) / 1e6);
  return Math.max(0, dv) / midpointGapS;
}

describe('planStepIntervals', () => {
  it.each([0, 1, 2, 3, 17, 640, 641, 32000])('returns exactly %i intervals', (steps) => {
    expect(planStepIntervals(steps, DEFAULTS)).toHaveLength(steps);
  });

  it.each([
    ['defaults', DEFAULTS, 32000],
    ['defaults, short', DEFAULTS, 200],
    ['coarse', COARSE, 3000],
    ['coarse, short', COARSE, 25],
  ] as const)('never exceeds the speed limit (%s)', (_name, profile, steps) => {
    const v = speeds(planStepIntervals(steps, profile), profile);
    expect(Math.max(...v)).toBeLessThanOrEqual(profile.maxSpeedUmPerS);
  });

  it.each([
    ['defaults', DEFAULTS, 32000],
    ['defaults, triangle', DEFAULTS, 300],
    ['coarse', COARSE, 3000],
    ['coarse, triangle', COARSE, 40],
  ] as const)(
    'respects the acceleration between consecutive steps, up to rounding (%s)',
    (_n, profile, steps) => {
      const intervals = planStepIntervals(steps, profile);
      let worst = 0;
      for (let i = 0; i + 1 < intervals.length; i++) {
        worst = Math.max(worst, leastAccelerationWithinRounding(intervals, i, profile));
      }
      expect(worst).toBeLessThanOrEqual(profile.accelUmPerS2 * (1 + 1e-9));
      // From rest and back to rest: one step in t = √(2s/a) at most, a mean speed of √(a·s/2), at either end.
      const fromRest = Math.sqrt((profile.accelUmPerS2 * stepUmOf(profile)) / 2);
      const v = speeds(intervals, profile);
      expect(v[0]).toBeLessThanOrEqual(fromRest);
      expect(v[v.length - 1]).toBeLessThanOrEqual(fromRest);
    },
  );

  it('accelerates at the asked rate, not more timidly (coarse steps make rounding negligible)', () => {
    const intervals = planStepIntervals(3000, COARSE);
    const v = speeds(intervals, COARSE);
    const accelerations = v.slice(1).map((vi, i) => (vi - v[i]) / ((intervals[i] + intervals[i + 1]) / 2e6));
    const peak = Math.max(...accelerations);
    expect(peak).toBeLessThanOrEqual(COARSE.accelUmPerS2 * 1.01);
    expect(peak).toBeGreaterThan(COARSE.accelUmPerS2 * 0.9);
  });

  it.each([1, 2, 5, 300, 641, 32000])('ramps down as it ramps up (%i steps)', (steps) => {
    const intervals = planStepIntervals(steps, DEFAULTS);
    const reversed = Uint32Array.from(intervals).reverse();
    expect(Array.from(intervals)).toEqual(Array.from(reversed));
  });

  it('cruises at the speed limit in the middle of a long move, after a ramp of v²/2a', () => {
    const p = DEFAULTS;
    const intervals = planStepIntervals(32000, p);
    const cruiseUs = Math.ceil((stepUmOf(p) / p.maxSpeedUmPerS) * 1e6);
    const rampSteps = intervals.findIndex((us) => us === cruiseUs);
    const expectedRampSteps = p.maxSpeedUmPerS ** 2 / (2 * p.accelUmPerS2) / stepUmOf(p);
    expect(Math.abs(rampSteps - expectedRampSteps)).toBeLessThanOrEqual(2);
    expect(intervals.slice(rampSteps, 32000 - rampSteps).every((us) => us === cruiseUs)).toBe(true);
    // Trapezoid kinematics: distance / v + v / a.
    const expectedS = 2000 / p.maxSpeedUmPerS + p.maxSpeedUmPerS / p.accelUmPerS2;
    expect(runDurationUs(intervals) / 1e6).toBeCloseTo(expectedS, 1);
  });

  it('makes short moves triangular: speeds rise to the middle, then fall, below the limit', () => {
    const p = DEFAULTS;
    const steps = 301; // 18.8 µm: reaching 200 µm/s would take 20 µm each way
    const intervals = planStepIntervals(steps, p);
    const middle = (steps - 1) / 2;
    for (let i = 0; i < middle; i++) expect(intervals[i + 1]).toBeLessThanOrEqual(intervals[i]);
    for (let i = middle; i + 1 < steps; i++) expect(intervals[i + 1]).toBeGreaterThanOrEqual(intervals[i]);
    expect(intervals[middle]).toBeLessThan(intervals[0]);
    const peak = Math.max(...speeds(intervals, p));
    expect(peak).toBeLessThan(p.maxSpeedUmPerS);
    // A triangle of distance d at acceleration a peaks at √(a·d).
    expect(peak).toBeCloseTo(Math.sqrt(p.accelUmPerS2 * steps * stepUmOf(p)), -1);
  });

  it('starts from rest: the first interval is the time to cover one step at the acceleration', () => {
    const intervals = planStepIntervals(10, COARSE);
    expect(intervals[0]).toBe(Math.ceil(Math.sqrt((2 * stepUmOf(COARSE)) / COARSE.accelUmPerS2) * 1e6));
  });

  it.each([
    [-1, DEFAULTS],
    [1.5, DEFAULTS],
    [Number.NaN, DEFAULTS],
    [10, { ...DEFAULTS, maxSpeedUmPerS: 0 }],
    [10, { ...DEFAULTS, accelUmPerS2: Number.POSITIVE_INFINITY }],
    [10, { ...DEFAULTS, stepsPerMm: -5 }],
  ])('refuses %s steps or a bad profile with BAD_ARGUMENT naming the value', (steps, profile) => {
    try {
      planStepIntervals(steps, profile);
      expect.unreachable('the planner accepted a bad input');
    } catch (error) {
      expect(error).toBeInstanceOf(StackscopeError);
      expect((error as StackscopeError).code).toBe('BAD_ARGUMENT');
      expect((error as Error).message).toMatch(/got (-1|1\.5|NaN|0|Infinity|-5)/);
    }
  });
});
