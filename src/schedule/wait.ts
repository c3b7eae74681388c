// The scheduler's clock (wall time and timers, injectable so tests move time themselves) and a run's
// wait for a busy rig: until the job manager goes idle, a deadline passes, or the wait is given up.

/** Wall clock and timers; tests pass a clock they move (or use vitest's fake timers with the default). */
export interface SchedulerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  // Unref'd: a far-off run must not keep a process alive that is otherwise done (tests, the CLI).
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How often a waiting run looks at the rig, besides being told when the job manager goes idle. */
export const POLL_MS = 5_000;

export interface RigWait {
  since: string;
  /** Ends the wait now: the run is skipped for `reason`. */
  cancel(reason: string): void;
  /** free: the rig can be used; otherwise why the run is skipped. */
  outcome: Promise<{ free: true } | { free: false; reason: string }>;
}

/**
 * Waits for `busy()` to return null: checked when `idle()` resolves and every POLL_MS, until
 * `deadline` (epoch ms), when the run gives up with the reason `timeoutReason()` words.
 */
export function waitForRig(o: {
  clock: SchedulerClock;
  busy: () => string | null;
  idle: () => Promise<void>;
  deadline: number;
  timeoutReason: (busy: string) => string;
}): RigWait {
  const { clock } = o;
  let settle!: (value: { free: true } | { free: false; reason: string }) => void;
  const outcome = new Promise<{ free: true } | { free: false; reason: string }>(
    (resolve) => (settle = resolve),
  );
  let done = false;
  let poll: unknown;
  const end = (reason?: string) => {
    if (done) return;
    done = true;
    clock.clearTimeout(timer);
    if (poll !== undefined) clock.clearTimeout(poll);
    settle(reason === undefined ? { free: true } : { free: false, reason });
  };
  const check = () => {
    if (done) return;
    if (!o.busy()) return end();
    if (poll !== undefined) clock.clearTimeout(poll);
    poll = clock.setTimeout(check, POLL_MS);
  };
  const timer = clock.setTimeout(
    () => end(o.timeoutReason(o.busy() ?? 'the rig was busy')),
    Math.max(0, o.deadline - clock.now()),
  );
  void o.idle().then(check);
  check();
  return { since: new Date(clock.now()).toISOString(), cancel: (reason) => end(reason), outcome };
}
