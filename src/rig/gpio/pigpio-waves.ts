// DMA-timed step pulses with pigpio waveforms: plans a move's intervals as waves and chain loops within
// pigpio's limits, transmits them with waveChain, polls waveTxBusy, and stops them with waveTxStop.

import { BadArgumentError, StackscopeError } from '../../errors.js';
import type { PigpioLike, PigpioPulse } from './libraries.js';
import type { PulseClock } from './soft-timing.js';

/**
 * pigpio's limits (HARDWARE-NOTES). The DMA control blocks are one pool shared by every wave that
 * exists, so the pulses of all waves alive at once must also fit in one wave's worth.
 */
export const PIGPIO_LIMITS = {
  maxPulsesPerWave: 12_000,
  maxWaves: 250,
  maxChainBytes: 600,
  maxLoopCount: 65_535,
} as const;

/** 2 pulses a step plus a lead: 10 001 pulses, under the per-wave limit with room to spare. */
export const MAX_STEPS_PER_WAVE = 5000;
/** Pulses of all waves created for one chain; a move needing more runs as several chains in a row. */
export const BATCH_PULSE_BUDGET = 11_000;
/** A run of at least this many equal intervals (a cruise) becomes a loop instead of literal pulses. */
export const LOOP_MIN_RUN = 200;
/** Steps in a loop body: small, so a long cruise costs 100 pulses and 7 chain bytes. */
export const LOOP_BODY_STEPS = 50;
const POLL_US = 2000;
const LOOP_BYTES = 7; // 255 0 <wave> 255 1 x y

export interface PulseTiming {
  /** STEP high time, µs. */
  stepHighUs: number;
  /** Least time between setting DIR and the first STEP edge, µs. */
  dirSetupUs: number;
}

export interface PlannedWave {
  pulses: PigpioPulse[];
  steps: number;
}

/** One chain entry: a wave (index into its batch's waves) sent `repeat` times. */
export interface ChainEntry {
  wave: number;
  repeat: number;
}

/** Waves and chain sent as one waveChain call. */
export interface WaveBatch {
  waves: PlannedWave[];
  chain: ChainEntry[];
  /** Index of the batch's first step in the move. */
  firstStep: number;
  steps: number;
  /** Time from chain start to the first STEP edge (the DIR setup; 0 after the first batch). */
  leadUs: number;
  pulses: number;
  chainBytes: number;
}

const stepPulses = (pin: number, highUs: number, lowUs: number): PigpioPulse[] => [
  { gpioOn: pin, gpioOff: 0, usDelay: highUs },
  { gpioOn: 0, gpioOff: pin, usDelay: lowUs },
];

/**
 * Each step is STEP high for stepHighUs, then low until the next step: so step i's pulses hold the
 * interval before step i + 1, and a run of equal intervals is a repeatable unit. The first wave opens
 * with a delay (DIR setup); the last step stays low for stepHighUs.
 */
export function planStepWaves(stepPin: number, intervalsUs: Uint32Array, timing: PulseTiming): WaveBatch[] {
  const n = intervalsUs.length;
  const { stepHighUs } = timing;
  if (!(Number.isInteger(stepPin) && stepPin > 0 && stepPin < 32)) {
    throw new BadArgumentError(`stepPin must be a BCM number 1–31 for a pigpio wave, got ${stepPin}`);
  }
  for (let i = 1; i < n; i++) {
    if (intervalsUs[i] < 2 * stepHighUs) {
      throw new BadArgumentError(
        `intervalsUs[${i}] is ${intervalsUs[i]} µs; a step needs at least ${2 * stepHighUs} µs (high ${stepHighUs} µs, then low as long)`,
      );
    }
  }
  if (n === 0) return [];
  const lowAfter = (i: number) => (i < n - 1 ? intervalsUs[i + 1] - stepHighUs : stepHighUs);

  const batches: WaveBatch[] = [];
  const leadUs = Math.max(intervalsUs[0], timing.dirSetupUs);
  let batch = newBatch(0, leadUs);
  let emitted = 0;
  let literal: PigpioPulse[] = [{ gpioOn: 0, gpioOff: 0, usDelay: leadUs }];
  let literalSteps = 0;

  function newBatch(firstStep: number, lead: number): WaveBatch {
    return { waves: [], chain: [], firstStep, steps: 0, leadUs: lead, pulses: 0, chainBytes: 0 };
  }
  function addEntry(wave: PlannedWave, repeat: number) {
    const bytes = repeat > 1 ? LOOP_BYTES : 1;
    const full =
      batch.pulses + wave.pulses.length > BATCH_PULSE_BUDGET ||
      batch.waves.length + 1 > PIGPIO_LIMITS.maxWaves ||
      batch.chainBytes + bytes > PIGPIO_LIMITS.maxChainBytes;
    if (full && batch.waves.length > 0) {
      batches.push(batch);
      batch = newBatch(emitted, 0);
    }
    batch.chain.push({ wave: batch.waves.length, repeat });
    batch.waves.push(wave);
    batch.pulses += wave.pulses.length;
    batch.chainBytes += bytes;
    batch.steps += wave.steps * repeat;
    emitted += wave.steps * repeat;
  }
  function flushLiteral() {
    if (literal.length > 0) addEntry({ pulses: literal, steps: literalSteps }, 1);
    literal = [];
    literalSteps = 0;
  }
  function addLiteralStep(i: number) {
    if (literalSteps === MAX_STEPS_PER_WAVE) flushLiteral();
    literal.push(...stepPulses(stepPin, stepHighUs, lowAfter(i)));
    literalSteps++;
  }

  for (let i = 0; i < n;) {
    const low = lowAfter(i);
    let j = i;
    while (j + 1 < n && lowAfter(j + 1) === low) j++;
    const run = j - i + 1;
    let next = i;
    if (run >= LOOP_MIN_RUN) {
      const body = Math.max(LOOP_BODY_STEPS, Math.ceil(run / PIGPIO_LIMITS.maxLoopCount));
      if (body > MAX_STEPS_PER_WAVE) {
        throw new BadArgumentError(
          `a run of ${run} equal intervals is longer than pigpio chain loops can repeat`,
        );
      }
      const repeat = Math.floor(run / body);
      flushLiteral();
      const pulses: PigpioPulse[] = [];
      for (let s = 0; s < body; s++) pulses.push(...stepPulses(stepPin, stepHighUs, low));
      addEntry({ pulses, steps: body }, repeat);
      next = i + body * repeat;
    }
    for (let s = next; s <= j; s++) addLiteralStep(s);
    i = j + 1;
  }
  flushLiteral();
  batches.push(batch);
  return batches;
}

/** waveChain bytes: a wave id, or `255 0 id 255 1 x y` to send it x + 256·y times. */
export function encodeChain(chain: ChainEntry[], waveIds: number[]): number[] {
  const bytes: number[] = [];
  for (const { wave, repeat } of chain) {
    const id = waveIds[wave];
    if (!(Number.isInteger(id) && id >= 0 && id < PIGPIO_LIMITS.maxWaves)) {
      throw new BadArgumentError(`wave id must be 0–${PIGPIO_LIMITS.maxWaves - 1}, got ${id}`);
    }
    if (!(Number.isInteger(repeat) && repeat >= 1 && repeat <= PIGPIO_LIMITS.maxLoopCount)) {
      throw new BadArgumentError(`repeat must be 1–${PIGPIO_LIMITS.maxLoopCount}, got ${repeat}`);
    }
    if (repeat === 1) bytes.push(id);
    else bytes.push(255, 0, id, 255, 1, repeat & 0xff, repeat >> 8);
  }
  return bytes;
}

/** Steps of `batch` whose STEP edge came at most `elapsedUs` after its chain started. */
export function stepsWithin(batch: WaveBatch, intervalsUs: Uint32Array, elapsedUs: number): number {
  let edgeUs = batch.leadUs;
  let steps = 0;
  while (steps < batch.steps && edgeUs <= elapsedUs) {
    steps++;
    edgeUs += intervalsUs[batch.firstStep + steps] ?? 0;
  }
  return steps;
}

/**
 * Sends the batches one after another. An abort stops the DMA at once (waveTxStop) and reports the
 * steps estimated from the time elapsed, exact: false, since the hardware does not say where it stopped.
 * Waves are deleted after every batch, whatever happens.
 */
export async function runWaveBatches(
  pigpio: PigpioLike,
  clock: PulseClock,
  batches: WaveBatch[],
  intervalsUs: Uint32Array,
  signal: AbortSignal,
): Promise<{ steps: number; exact: boolean }> {
  let done = 0;
  for (const batch of batches) {
    if (signal.aborted) return { steps: done, exact: true };
    const ids: number[] = [];
    let stoppedAtUs: number | undefined;
    let startUs = 0;
    const stop = () => {
      if (stoppedAtUs !== undefined) return;
      pigpio.waveTxStop();
      stoppedAtUs = clock.nowUs();
    };
    try {
      for (const wave of batch.waves) {
        pigpio.waveAddGeneric(wave.pulses);
        const id = pigpio.waveCreate();
        if (id < 0) throw new Error(`waveCreate returned ${id}`);
        ids.push(id);
      }
      const chain = encodeChain(batch.chain, ids);
      signal.addEventListener('abort', stop, { once: true });
      startUs = clock.nowUs();
      pigpio.waveChain(chain);
      while (pigpio.waveTxBusy()) {
        if (signal.aborted) stop();
        await clock.sleep(POLL_US);
      }
    } catch (err) {
      if (err instanceof StackscopeError) throw err;
      throw new StackscopeError(
        'GPIO_UNAVAILABLE',
        `pigpio could not send steps ${batch.firstStep}–${batch.firstStep + batch.steps - 1} ` +
          `(${batch.waves.length} waves, ${batch.pulses} pulses): ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      signal.removeEventListener('abort', stop);
      for (const id of ids) pigpio.waveDelete(id);
    }
    if (stoppedAtUs !== undefined) {
      return { steps: done + stepsWithin(batch, intervalsUs, stoppedAtUs - startUs), exact: false };
    }
    done += batch.steps;
  }
  return { steps: done, exact: true };
}
