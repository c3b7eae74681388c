// Checks how step intervals become pigpio waves and chains: the exact pulses of a short move, loops for
// long cruises, every limit (pulses, waves, chain bytes, loop counts) kept, and the chain byte encoding.

import { describe, expect, it } from 'vitest';
import {
  BATCH_PULSE_BUDGET,
  encodeChain,
  LOOP_BODY_STEPS,
  PIGPIO_LIMITS,
  planStepWaves,
  stepsWithin,
  type WaveBatch,
} from '../../../src/rig/gpio/pigpio-waves.js';
import { BadArgumentError } from '../../../src/errors.js';
import { expandChain } from '../../fakes/fake-pigpio.js';

const TIMING = { stepHighUs: 5, dirSetupUs: 10 };
const PIN = 20;

/** Rising-edge times of the planned batch, decoding its chain as pigpio would. */
function plannedEdges(batch: WaveBatch): number[] {
  const ids = batch.waves.map((_, i) => i);
  const edges: number[] = [];
  let t = 0;
  for (const step of expandChain(encodeChain(batch.chain, ids))) {
    if ('delayUs' in step) continue;
    for (const p of batch.waves[step.wave].pulses) {
      if (p.gpioOn === PIN) edges.push(t);
      t += p.usDelay;
    }
  }
  return edges;
}

function expectWithinLimits(batches: WaveBatch[]) {
  for (const batch of batches) {
    expect(batch.waves.length).toBeLessThanOrEqual(PIGPIO_LIMITS.maxWaves);
    expect(batch.chainBytes).toBeLessThanOrEqual(PIGPIO_LIMITS.maxChainBytes);
    expect(
      encodeChain(
        batch.chain,
        batch.waves.map((_, i) => i),
      ),
    ).toHaveLength(batch.chainBytes);
    expect(batch.pulses).toBeLessThanOrEqual(BATCH_PULSE_BUDGET);
    for (const wave of batch.waves)
      expect(wave.pulses.length).toBeLessThanOrEqual(PIGPIO_LIMITS.maxPulsesPerWave);
  }
}

describe('planStepWaves', () => {
  it('plans a short move as one wave: DIR setup delay, then high 5 µs / low until the next step', () => {
    const [batch, ...rest] = planStepWaves(PIN, Uint32Array.from([3, 400, 250]), TIMING);
    expect(rest).toEqual([]);
    expect(batch.chain).toEqual([{ wave: 0, repeat: 1 }]);
    expect(batch.waves[0]).toEqual({
      steps: 3,
      pulses: [
        { gpioOn: 0, gpioOff: 0, usDelay: 10 }, // asked 3 µs, below the DIR setup time
        { gpioOn: PIN, gpioOff: 0, usDelay: 5 },
        { gpioOn: 0, gpioOff: PIN, usDelay: 395 },
        { gpioOn: PIN, gpioOff: 0, usDelay: 5 },
        { gpioOn: 0, gpioOff: PIN, usDelay: 245 },
        { gpioOn: PIN, gpioOff: 0, usDelay: 5 },
        { gpioOn: 0, gpioOff: PIN, usDelay: 5 },
      ],
    });
  });

  it('loops a long cruise: 50 000 steps in three waves and a 9-byte chain', () => {
    const intervals = new Uint32Array(50_000).fill(312);
    for (let i = 0; i < 300; i++) intervals[i] = intervals[49_999 - i] = 312 + 3000 - 10 * i;
    const batches = planStepWaves(PIN, intervals, TIMING);
    expect(batches).toHaveLength(1);
    const [batch] = batches;
    expectWithinLimits(batches);
    expect(batch.steps).toBe(50_000);
    // Literal ramp up, the cruise as a 50-step body repeated, literal remainder and ramp down.
    // Step i's pulses hold interval i + 1: the equal run is steps 299–49 698.
    const cruise = 49_698 - 299 + 1;
    const repeat = Math.floor(cruise / LOOP_BODY_STEPS);
    expect(batch.chain.map((e) => e.repeat)).toEqual([1, repeat, 1]);
    expect(batch.waves[1].steps).toBe(LOOP_BODY_STEPS);
    expect(encodeChain(batch.chain, [4, 9, 2])).toEqual([4, 255, 0, 9, 255, 1, repeat & 255, repeat >> 8, 2]);
    const edges = plannedEdges(batch);
    expect(edges).toHaveLength(50_000);
    expect(edges.slice(1).map((t, i) => t - edges[i])).toEqual(Array.from(intervals.subarray(1)));
  });

  it('grows the loop body when a cruise needs more than 65 535 repeats', () => {
    const [batch] = planStepWaves(PIN, new Uint32Array(4_000_000).fill(100), TIMING);
    const loop = batch.chain.find((e) => e.repeat > 1)!;
    expect(loop.repeat).toBeLessThanOrEqual(PIGPIO_LIMITS.maxLoopCount);
    expect(batch.waves[loop.wave].steps).toBeGreaterThan(LOOP_BODY_STEPS);
    expect(batch.steps).toBe(4_000_000);
  });

  it('starts a new batch when the chain bytes run out, and the batches add up to the move', () => {
    // 200 cruises of 200 steps at alternating speeds: 200 loops of 7 bytes do not fit 600 bytes.
    const intervals = Uint32Array.from({ length: 40_000 }, (_, i) => 400 + (Math.floor(i / 200) % 2) * 50);
    const batches = planStepWaves(PIN, intervals, TIMING);
    expect(batches.length).toBeGreaterThan(1);
    expectWithinLimits(batches);
    let next = 0;
    for (const [i, batch] of batches.entries()) {
      expect(batch.firstStep).toBe(next);
      expect(batch.leadUs).toBe(i === 0 ? 400 : 0);
      const edges = plannedEdges(batch);
      expect(edges).toHaveLength(batch.steps);
      expect(edges[0]).toBe(batch.leadUs);
      expect(edges.slice(1).map((t, k) => t - edges[k])).toEqual(
        Array.from(intervals.subarray(next + 1, next + batch.steps)),
      );
      next += batch.steps;
    }
    expect(next).toBe(40_000);
  });

  it('splits literal stretches into waves of at most 5 000 steps within the pulse budget', () => {
    const intervals = Uint32Array.from({ length: 12_001 }, (_, i) => 300 + (i % 3));
    const batches = planStepWaves(PIN, intervals, TIMING);
    expectWithinLimits(batches);
    expect(batches.flatMap((b) => b.waves.map((w) => w.steps))).toEqual([5000, 5000, 2001]);
  });

  it('refuses intervals too short for a pulse, naming the index, and plans nothing for no steps', () => {
    expect(() => planStepWaves(PIN, Uint32Array.from([100, 9]), TIMING)).toThrow(BadArgumentError);
    expect(() => planStepWaves(PIN, Uint32Array.from([100, 9]), TIMING)).toThrow(
      /intervalsUs\[1\] is 9 µs.*at least 10/,
    );
    expect(() => planStepWaves(0, Uint32Array.from([100]), TIMING)).toThrow(/stepPin/);
    expect(planStepWaves(PIN, new Uint32Array(0), TIMING)).toEqual([]);
  });
});

describe('encodeChain', () => {
  it('writes waves as one byte and repeats as 255 0 id 255 1 x y', () => {
    expect(encodeChain([{ wave: 0, repeat: 1 }], [7])).toEqual([7]);
    expect(encodeChain([{ wave: 0, repeat: 65_535 }], [1])).toEqual([255, 0, 1, 255, 1, 255, 255]);
    expect(encodeChain([{ wave: 0, repeat: 256 }], [0])).toEqual([255, 0, 0, 255, 1, 0, 1]);
    expect(() => encodeChain([{ wave: 0, repeat: 65_536 }], [0])).toThrow(/repeat must be 1–65535/);
    expect(() => encodeChain([{ wave: 0, repeat: 1 }], [250])).toThrow(/wave id must be 0–249/);
  });
});

describe('stepsWithin', () => {
  it('counts the steps whose edge had come by a time', () => {
    const intervals = Uint32Array.from([50, 100, 100, 100]);
    const [batch] = planStepWaves(PIN, intervals, TIMING);
    expect([0, 49, 50, 149, 150, 350, 10_000].map((t) => stepsWithin(batch, intervals, t))).toEqual([
      0, 0, 1, 1, 2, 4, 4,
    ]);
  });
});
