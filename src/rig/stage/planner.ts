// Motion planning for the focus stepper: a move of N steps becomes N step intervals (µs) that ramp up at
// constant acceleration, cruise and ramp down symmetrically (a triangle for short moves); and the homing plan.
import type { StageConfig } from '../../config/schema.js';
import { BadArgumentError } from '../../errors.js';

/** The three numbers a ramp needs; StageConfig has them under these names. */
export interface RampProfile {
  maxSpeedUmPerS: number;
  accelUmPerS2: number;
  stepsPerMm: number;
}

const US_PER_S = 1e6;
const MAX_INTERVAL_US = 0xffffffff;

function requirePositive(name: keyof RampProfile, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new BadArgumentError(`${name} must be a finite number > 0, got ${value}`);
  }
}

/**
 * Intervals for a move of `steps` steps: element i is the wait before step i + 1 (element 0: after the
 * direction is set), as StepperBackend.step takes them.
 *
 * Starting from rest at constant acceleration a, step k (1-based, step length s) happens at
 * t_k = √(2ks/a), so its interval is t_k − t_{k−1}. The mean velocity over that interval, s/(t_k − t_{k−1}),
 * equals a·(t_k + t_{k−1})/2, which makes the velocity change between consecutive intervals exactly
 * a × (time between their midpoints): the ramp accelerates at a, no more. Each interval is the larger of
 * that ramp value — counted from whichever end of the move is nearer — and the cruise interval s/vmax,
 * so the profile is symmetric by construction, and a move too short to reach vmax becomes a triangle.
 *
 * Intervals are rounded up to whole µs: never faster, nor accelerating harder, than asked by more than
 * that rounding.
 */
export function planStepIntervals(steps: number, profile: RampProfile): Uint32Array {
  if (!(Number.isInteger(steps) && steps >= 0)) {
    throw new BadArgumentError(`steps must be a whole number ≥ 0, got ${steps}`);
  }
  requirePositive('maxSpeedUmPerS', profile.maxSpeedUmPerS);
  requirePositive('accelUmPerS2', profile.accelUmPerS2);
  requirePositive('stepsPerMm', profile.stepsPerMm);

  const stepUm = 1000 / profile.stepsPerMm;
  const cruiseUs = (stepUm / profile.maxSpeedUmPerS) * US_PER_S;
  const rampFactorUs = Math.sqrt((2 * stepUm) / profile.accelUmPerS2) * US_PER_S;
  const toInterval = (us: number) => Math.min(MAX_INTERVAL_US, Math.max(1, Math.ceil(us)));

  // The ramp only matters while it is slower than cruising; past that index every interval is cruiseUs.
  const ramp: number[] = [];
  for (let k = 1; k <= Math.ceil(steps / 2); k++) {
    // √k − √(k−1), written so it keeps its precision for large k.
    const rampUs = rampFactorUs / (Math.sqrt(k) + Math.sqrt(k - 1));
    if (rampUs <= cruiseUs) break;
    ramp.push(toInterval(rampUs));
  }

  const cruise = toInterval(cruiseUs);
  const intervals = new Uint32Array(steps).fill(cruise);
  for (let i = 0; i < ramp.length; i++) {
    intervals[i] = ramp[i];
    intervals[steps - 1 - i] = ramp[i];
  }
  return intervals;
}

/** Total time a step run takes, µs. */
export function runDurationUs(intervals: Uint32Array): number {
  let total = 0;
  for (const us of intervals) total += us;
  return total;
}

/** The slow homing approach runs at this fraction of homingSpeedUmPerS, for a repeatable trigger point. */
const HOMING_SLOW_FACTOR = 0.25;
/** Back-off before the slow approach: several times the play, so the switch surely releases. */
const HOMING_BACKOFF_BACKLASH_FACTOR = 3;
const HOMING_MIN_BACKOFF_UM = 20;
/** Search beyond the travel: the stage may start a little outside it when its position was uncertain. */
const HOMING_MARGIN_FRACTION = 0.1;

export interface HomingPlan {
  /** Step direction towards the switch. */
  toward: 1 | -1;
  travelUm: number;
  marginUm: number;
  /** The fast search gives up after travelUm + marginUm. */
  searchSteps: number;
  backoffSteps: number;
  /** The carriage comes back after the motor recrosses the play: twice the back-off is ample. */
  approachSteps: number;
  fast: RampProfile;
  slow: RampProfile;
}

/** Fast search towards the switch, back-off, slow approach: distances in steps, speeds from the config. */
export function planHoming(config: StageConfig, side: 'min' | 'max'): HomingPlan {
  const stepUm = 1000 / config.stepsPerMm;
  const travelUm = config.maxUm - config.minUm;
  const marginUm = travelUm * HOMING_MARGIN_FRACTION + config.backlashUm;
  const backoffUm = Math.max(HOMING_BACKOFF_BACKLASH_FACTOR * config.backlashUm, HOMING_MIN_BACKOFF_UM);
  const backoffSteps = Math.ceil(backoffUm / stepUm);
  const fast: RampProfile = { ...config, maxSpeedUmPerS: config.homingSpeedUmPerS };
  return {
    toward: side === 'min' ? -1 : 1,
    travelUm,
    marginUm,
    searchSteps: Math.ceil((travelUm + marginUm) / stepUm),
    backoffSteps,
    approachSteps: 2 * backoffSteps,
    fast,
    slow: { ...fast, maxSpeedUmPerS: config.homingSpeedUmPerS * HOMING_SLOW_FACTOR },
  };
}
