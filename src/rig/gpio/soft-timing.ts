// Software-timed stepping: issues one step per interval from the main thread, with precise waits that
// never block the event loop for more than a few ms, checking abort and the limit switch before each step.

import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleepMs } from 'node:timers/promises';
import { BadArgumentError, StackscopeError } from '../../errors.js';
import type { StepRun } from '../stage/backend.js';

/** Time for the pulse loops; injected so tests run on a virtual clock. */
export interface PulseClock {
  /** Monotonic time, µs. */
  nowUs(): number;
  /** Waits about `us` (at least a timer tick when us ≥ 1000) while the event loop runs. */
  sleep(us: number): Promise<void>;
  /** Busy-waits until nowUs() ≥ targetUs: precise to a µs or so, but blocks the event loop. */
  spinUntil(targetUs: number): void;
}

export const systemClock: PulseClock = {
  nowUs: () => performance.now() * 1000,
  sleep: (us) => (us >= 1000 ? sleepMs(us / 1000) : yieldToLoop()),
  spinUntil(targetUs) {
    while (performance.now() * 1000 < targetUs) {
      // spin: a timer cannot wait a few hundred µs
    }
  },
};

/**
 * Why bursts on the main thread rather than a worker: the pins (onoff file descriptors, pigpio) belong
 * to this thread, and a worker would have to reopen them and report positions back through messages.
 * Instead, waits longer than SLEEP_ABOVE_US sleep on a timer (waking SPIN_MARGIN_US early, then spinning
 * to the µs), and shorter waits spin, but never for more than BURST_US in a row: then the loop yields
 * once, so HTTP, the camera and the button still get served while the motor runs fast.
 */
export const SLEEP_ABOVE_US = 3000;
const SPIN_MARGIN_US = 1500;
export const BURST_US = 5000;

export interface SoftStepRun {
  clock: PulseClock;
  intervalsUs: Uint32Array;
  signal: AbortSignal;
  /** When the direction was set (µs, clock time): step 0 comes intervalsUs[0] after it. */
  startUs: number;
  /** Least wait before step 0: the driver's DIR setup time. */
  firstStepMinUs: number;
  /** Makes one step: a STEP pulse, or the next coil phase. */
  issueStep(): void;
  /** Only with untilLimit: whether the limit switch is active now. */
  limitActive?: () => boolean;
}

/**
 * Steps on schedule, each interval counted from when the previous step actually went out: a late step
 * (a busy event loop, a long GC pause) slows the move a little instead of bunching the steps after it,
 * which could stall the motor. Abort and the limit switch are checked at each step's time, before it goes out.
 */
export async function runSoftSteps(run: SoftStepRun): Promise<StepRun> {
  const { clock, intervalsUs, signal, issueStep, limitActive } = run;
  let lastUs = run.startUs;
  let burstStartUs = clock.nowUs();
  let steps = 0;
  let hitLimit = false;
  for (let i = 0; i < intervalsUs.length; i++) {
    const gapUs = i === 0 ? Math.max(intervalsUs[0], run.firstStepMinUs) : intervalsUs[i];
    const targetUs = lastUs + gapUs;
    const waitUs = targetUs - clock.nowUs();
    if (waitUs > SLEEP_ABOVE_US) {
      await clock.sleep(waitUs - SPIN_MARGIN_US);
      burstStartUs = clock.nowUs();
    } else if (clock.nowUs() - burstStartUs > BURST_US) {
      await clock.sleep(0);
      burstStartUs = clock.nowUs();
    }
    if (signal.aborted) break;
    clock.spinUntil(targetUs);
    // Read the switch at the moment of the step, not before the wait: it may close during the wait.
    if (signal.aborted) break;
    if (limitActive?.()) {
      hitLimit = true;
      break;
    }
    lastUs = clock.nowUs();
    issueStep();
    steps++;
  }
  return { steps, exact: true, hitLimit };
}

/** What every GPIO backend checks before a run: it is open and idle, the direction is ±1, a switch exists to stop at. */
export function checkStepRequest(
  description: string,
  state: { closed: boolean; running: boolean; hasLimitSwitch: boolean },
  direction: number,
  untilLimit: boolean | undefined,
): void {
  if (state.closed) throw new StackscopeError('GPIO_UNAVAILABLE', `${description}: the backend is closed.`);
  if (state.running)
    throw new StackscopeError('STAGE_BUSY', `${description} is already stepping; one run at a time.`);
  if (direction !== 1 && direction !== -1)
    throw new BadArgumentError(`direction must be 1 or -1, got ${String(direction)}`);
  if (untilLimit && !state.hasLimitSwitch)
    throw new StackscopeError('STAGE_NO_HOMING', `${description} has no limit switch to stop at.`);
}
