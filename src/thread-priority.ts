// Lets a worker thread step back for the API thread: heavy work (stacking, rendering) runs at a
// lower scheduling priority, so a status request is answered at once even when every core is busy.
import { getPriority, setPriority } from 'node:os';

/** Nice value for background threads: they still take every idle cycle, but yield to the API thread. */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's priority. Linux keeps the nice value per thread, and pid 0 means the
 * calling thread, so the rest of the process (the event loop serving HTTP) keeps its priority. Raising
 * nice needs no privilege; where it is refused (other systems, seccomp) the thread simply keeps its own.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): boolean {
  try {
    // Never raises it: a daemon started under nice stays at least as nice.
    setPriority(0, Math.max(getPriority(0), nice));
    return true;
  } catch {
    return false;
  }
}

let background = false;

/**
 * Whether heavy worker threads started from now on should lower their priority: the daemon turns
 * this on (its API thread must answer while a stack runs); the command line leaves it off, because
 * with nothing to protect, a lower priority only lets sharp's decoding threads preempt the merge
 * they were meant to overlap (pyramid 12 MP × 20: ~10 % slower when on).
 */
export function setBackgroundWork(on: boolean): void {
  background = on;
}

export function backgroundWork(): boolean {
  return background;
}
