// Long per-pixel loops on the daemon's main thread, cut into slices with a turn of the event loop
// between them: colouring a 5 MP depth preview takes ~125 ms, which no status request should wait behind.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** ~3–6 ms of a simple per-pixel loop on a Pi 4 class core. */
export const SLICE_PIXELS = 1 << 18;

/** Runs body over [0, total) in slices of `slice`, letting the event loop run between them. */
export async function inSlices(
  total: number,
  body: (start: number, end: number) => void,
  slice = SLICE_PIXELS,
): Promise<void> {
  for (let start = 0; start < total; start += slice) {
    if (start > 0) await nextTurn();
    body(start, Math.min(total, start + slice));
  }
}
