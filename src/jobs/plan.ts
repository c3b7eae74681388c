// Plans a stack's focus positions from a request: start/end/step, or a frame count around the
// current position. Every plane is checked against the soft limits before anything moves.
import { BadArgumentError, StackscopeError } from '../errors.js';
import { MAX_FRAMES } from '../stack/stacker.js';
import type { StageLimits } from '../rig/types.js';

export type ZRequest = { start: number; end: number; step: number } | { frames: number; step: number };

export interface ZPlanContext {
  currentUm: number;
  limits: StageLimits;
  /** The stage's smallest move: planes are whole steps apart. */
  stepUm: number;
}

const MIN_FRAMES = 2;

/**
 * The planes to capture, in capture order. start/end: from start towards end (either way up), the
 * last plane not beyond end. frames: centred on the current position, upwards (the direction
 * backlash compensation approaches from, so no step needs an overshoot).
 */
export function planFocusPositions(request: ZRequest, { currentUm, limits, stepUm }: ZPlanContext): number[] {
  const { step } = request;
  if (!(Number.isFinite(step) && step > 0))
    throw new BadArgumentError(`step: expected a positive number of µm, got ${step}`);
  if (step < stepUm)
    throw new BadArgumentError(
      `step: ${step} µm is finer than the stage's smallest move (${round(stepUm)} µm)`,
    );
  let first: number;
  let count: number;
  let direction = 1;
  if ('frames' in request) {
    const { frames } = request;
    if (!Number.isInteger(frames) || frames < MIN_FRAMES || frames > MAX_FRAMES)
      throw new BadArgumentError(
        `frames: expected a whole number from ${MIN_FRAMES} to ${MAX_FRAMES}, got ${frames}`,
      );
    count = frames;
    first = currentUm - ((frames - 1) * step) / 2;
  } else {
    const { start, end } = request;
    for (const [name, value] of [
      ['start', start],
      ['end', end],
    ] as const)
      if (!Number.isFinite(value))
        throw new BadArgumentError(`${name}: expected a position in µm, got ${value}`);
    direction = end >= start ? 1 : -1;
    count = Math.floor(Math.abs(end - start) / step + 1e-9) + 1;
    if (count < MIN_FRAMES)
      throw new BadArgumentError(
        `start/end/step: ${start}–${end} µm by ${step} µm gives ${count} plane; a stack needs ${MIN_FRAMES} or more`,
      );
    if (count > MAX_FRAMES)
      throw new BadArgumentError(
        `start/end/step: ${start}–${end} µm by ${step} µm gives ${count} planes; at most ${MAX_FRAMES}`,
      );
    first = start;
  }
  const planes = Array.from({ length: count }, (_, i) => snap(first + direction * i * step, stepUm));
  const low = Math.min(planes[0], planes[count - 1]);
  const high = Math.max(planes[0], planes[count - 1]);
  if (low < limits.minUm || high > limits.maxUm) {
    throw new StackscopeError(
      'STAGE_LIMIT',
      `the stack spans ${round(low)}–${round(high)} µm, beyond the stage's soft limits ${limits.minUm}–${limits.maxUm} µm`,
    );
  }
  return planes;
}

/** Whole stage steps, so the planes are exactly where the stage can be. */
function snap(um: number, stepUm: number): number {
  return Math.round(um / stepUm) * stepUm;
}

function round(um: number): number {
  return Math.round(um * 1000) / 1000;
}
