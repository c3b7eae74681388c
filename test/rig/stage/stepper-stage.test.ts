// Checks the stepper focus stage: soft limits no request can pass (property test over a seeded request
// stream), backlash taken up upwards, stop/abort with exact positions, driver enable, persistence, homing.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stageSchema, type StageConfig } from '../../../src/config/schema.js';
import { StackscopeError } from '../../../src/errors.js';
import { SimulatedMotor } from '../../../src/rig/simulated/motor.js';
import { mulberry32 } from '../../../src/rig/simulated/prng.js';
import { StepperStage } from '../../../src/rig/stage/stepper-stage.js';
import type { StageEvent } from '../../../src/rig/types.js';
import { RecordingStepper } from '../../fakes/recording-stepper.js';
import { countingPositionFs } from '../../helpers/counting-fs.js';

/** 1 µm per step, limits 0–500 µm, 10 µm backlash: step counts read as µm. */
function stageConfig(overrides: Partial<StageConfig> = {}): StageConfig {
  return stageSchema.parse({ stepsPerMm: 1000, minUm: 0, maxUm: 500, backlashUm: 10, ...overrides });
}

/** A stage and a recording backend that agree the stage is at `atUm` (certain). */
async function recordedStage(atUm = 200, overrides: Partial<StageConfig> = {}, fake: object = {}) {
  const config = stageConfig(overrides);
  const backend = new RecordingStepper({
    startSteps: Math.round((atUm * config.stepsPerMm) / 1000),
    ...fake,
  });
  const stage = new StepperStage({ backend, config });
  await stage.setPosition(atUm);
  backend.calls.length = 0;
  return { stage, backend, config };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const codeOf = (error: unknown) =>
  error instanceof StackscopeError ? error.code : `not a StackscopeError: ${error}`;

describe('soft limits', () => {
  it.each([
    ['moveTo above maxUm', (s: StepperStage) => s.moveTo(2500), '2500'],
    ['moveTo below minUm', (s: StepperStage) => s.moveTo(-0.5), '-0.5'],
    ['moveBy past maxUm', (s: StepperStage) => s.moveBy(301), '501'],
    ['moveBy past minUm', (s: StepperStage) => s.moveBy(-200.25), '-0.25'],
    ['moveTo NaN', (s: StepperStage) => s.moveTo(Number.NaN), 'NaN'],
    ['moveTo Infinity', (s: StepperStage) => s.moveTo(Number.POSITIVE_INFINITY), 'Infinity'],
    ['moveBy -Infinity', (s: StepperStage) => s.moveBy(Number.NEGATIVE_INFINITY), '-Infinity'],
    ['moveBy NaN', (s: StepperStage) => s.moveBy(Number.NaN), 'NaN'],
  ])(
    'refuses %s with STAGE_LIMIT naming target, limits and unit; nothing moves',
    async (_n, request, named) => {
      const { stage, backend } = await recordedStage(200);
      const error = await request(stage).catch((e: unknown) => e);
      expect(codeOf(error)).toBe('STAGE_LIMIT');
      const message = (error as Error).message;
      expect(message).toContain(named);
      expect(message).toContain('0–500 µm');
      expect(message).toContain('minUm');
      expect(message).toContain('maxUm');
      expect(backend.calls).toEqual([]);
      expect(stage.position()).toMatchObject({ um: 200, steps: 200, certain: true });
    },
  );

  it('accepts targets exactly on the limits', async () => {
    const { stage, backend } = await recordedStage(200);
    expect((await stage.moveTo(500)).um).toBe(500);
    expect((await stage.moveTo(0)).um).toBe(0);
    expect(backend.position).toBe(0);
  });

  it('never steps outside [minUm, maxUm]: 600 seeded requests, in and far out of range, NaN, stops', async () => {
    const minUm = 50;
    const maxUm = 450;
    const { stage, backend } = await recordedStage(200, { minUm, maxUm }, { stepsPerTick: 25 });
    const rng = mulberry32(20250101);
    const pick = <T>(items: T[]) => items[Math.floor(rng() * items.length)];
    const inRange = () => minUm + rng() * (maxUm - minUm);
    const farOut = () => (rng() < 0.5 ? minUm - 0.01 - rng() * 1e6 : maxUm + 0.01 + rng() * 1e6);
    const tally = { moved: 0, refused: 0, stopped: 0, busy: 0 };

    for (let i = 0; i < 600; i++) {
      const kind = pick([
        'to-in',
        'to-edge',
        'to-out',
        'by-any',
        'by-far',
        'non-finite',
        'stop',
        'abort',
        'busy',
      ]);
      const before = backend.trace.length;
      const here = stage.position().um;
      let targetUm: number;
      let request: (signal?: AbortSignal) => Promise<unknown>;
      if (kind === 'by-any' || kind === 'by-far') {
        const delta = kind === 'by-far' ? farOut() - here : (rng() - 0.5) * 600;
        targetUm = here + delta;
        request = (signal) => stage.moveBy(delta, { signal });
      } else {
        const edge = () => pick([minUm, maxUm]) + (rng() - 0.5) * 2; // within 1 µm of a limit, either side
        targetUm =
          kind === 'to-out'
            ? farOut()
            : kind === 'to-edge'
              ? edge()
              : kind === 'non-finite'
                ? pick([NaN, Infinity, -Infinity])
                : inRange();
        request = (signal) => stage.moveTo(targetUm, { signal });
      }
      const allowed = Number.isFinite(targetUm) && targetUm >= minUm && targetUm <= maxUm;

      const controller = new AbortController();
      let settled = false;
      const outcome = request(controller.signal).then(
        () => 'moved',
        (e: unknown) => codeOf(e),
      );
      void outcome.then(() => (settled = true));
      if (allowed && (kind === 'stop' || kind === 'abort' || kind === 'busy')) {
        const turns = Math.floor(rng() * 12);
        for (let t = 0; t < turns; t++) await nextTurn();
        if (kind === 'busy') {
          if (!settled) {
            expect(codeOf(await stage.moveTo(inRange()).catch((e: unknown) => e))).toBe('STAGE_BUSY');
            tally.busy++;
          }
        } else if (kind === 'stop') await stage.stop();
        else controller.abort();
      }
      const result = await outcome;
      if (!allowed) {
        expect(result).toBe('STAGE_LIMIT');
        expect(backend.trace.length).toBe(before);
        tally.refused++;
      } else {
        expect(['moved', 'CANCELLED']).toContain(result);
        tally[result === 'moved' ? 'moved' : 'stopped']++;
        if (result === 'moved') expect(backend.position).toBe(Math.round(targetUm));
      }
      // The stage counts exactly the steps the backend made, stopped or not.
      expect(stage.position().steps).toBe(backend.position);
    }

    expect(Math.min(...backend.trace)).toBeGreaterThanOrEqual(minUm);
    expect(Math.max(...backend.trace)).toBeLessThanOrEqual(maxUm);
    // The stream really exercised moves near both limits, refusals and stops.
    expect(Math.min(...backend.trace)).toBe(minUm);
    expect(Math.max(...backend.trace)).toBe(maxUm);
    expect(tally.refused).toBeGreaterThan(100);
    expect(tally.moved).toBeGreaterThan(100);
    expect(tally.stopped).toBeGreaterThan(30);
    expect(tally.busy).toBeGreaterThan(30);
  });
});

describe('backlash compensation', () => {
  it('moves straight up to a higher target', async () => {
    const { stage, backend } = await recordedStage(100);
    await stage.moveTo(180);
    expect(backend.stepCalls().map((c) => [c.direction, c.intervals.length])).toEqual([[1, 80]]);
  });

  it('overshoots a lower target by backlashUm, then approaches it upwards by exactly backlashUm', async () => {
    const { stage, backend } = await recordedStage(300);
    await stage.moveTo(120);
    expect(backend.stepCalls().map((c) => [c.direction, c.intervals.length])).toEqual([
      [-1, 190],
      [1, 10],
    ]);
    expect(Math.min(...backend.trace)).toBe(110);
    expect(backend.position).toBe(120);
  });

  it('ends every move with an upward approach (seeded targets, 16 000 steps/mm)', async () => {
    const { stage, backend, config } = await recordedStage(1000, { stepsPerMm: 16000, maxUm: 2000 });
    const backlashSteps = config.backlashUm * 16;
    const rng = mulberry32(7);
    for (let i = 0; i < 40; i++) {
      const from = backend.position;
      backend.calls.length = 0;
      const target = 15 + rng() * 1970;
      const reached = await stage.moveTo(target);
      const runs = backend.stepCalls();
      expect(runs.at(-1)?.direction).toBe(1);
      if (reached.steps < from) expect(runs.at(-1)?.intervals.length).toBe(backlashSteps);
      expect(reached.steps).toBe(Math.round(target * 16));
      expect(backend.position).toBe(reached.steps);
    }
  });

  it('overshoots only to minUm for a target within backlashUm of it', async () => {
    const { stage, backend } = await recordedStage(100, { minUm: 20 });
    await stage.moveTo(24);
    expect(backend.stepCalls().map((c) => [c.direction, c.intervals.length])).toEqual([
      [-1, 80],
      [1, 4],
    ]);
    backend.calls.length = 0;
    await stage.moveTo(20);
    expect(backend.stepCalls().map((c) => [c.direction, c.intervals.length])).toEqual([[-1, 4]]);
    expect(Math.min(...backend.trace)).toBe(20);
  });

  it('puts the simulated carriage within one step of the target from either direction', async () => {
    const config = stageConfig({ stepsPerMm: 16000, maxUm: 1000, backlashUm: 10 });
    const motor = new SimulatedMotor({ stepsPerMm: 16000, playUm: 5, timeScale: 1e5, startUm: 500 });
    const stage = new StepperStage({ backend: motor, config });
    await stage.setPosition(500);
    const stepUm = stage.stepUm;
    for (const target of [520.3, 480.7, 490, 610.25, 100.5, 100.75, 99.1, 700]) {
      await stage.moveTo(target);
      expect(Math.abs(motor.carriageUm() - target)).toBeLessThanOrEqual(stepUm);
    }
  });

  it('is what makes that so: without it, downward moves leave the carriage one play too high', async () => {
    const config = stageConfig({ stepsPerMm: 16000, maxUm: 1000, backlashUm: 0 });
    const motor = new SimulatedMotor({ stepsPerMm: 16000, playUm: 5, timeScale: 1e5, startUm: 500 });
    const stage = new StepperStage({ backend: motor, config });
    await stage.setPosition(500);
    await stage.moveTo(450);
    expect(motor.carriageUm() - 450).toBeCloseTo(5, 6);
  });
});

describe('moves', () => {
  it('rounds targets to whole steps', async () => {
    const { stage, backend } = await recordedStage(0, { stepsPerMm: 16000 });
    expect(stage.stepUm).toBe(0.0625);
    expect(await stage.moveTo(123.4)).toEqual({ um: 123.375, steps: 1974, certain: true });
    expect(backend.position).toBe(1974);
    expect((await stage.moveBy(0.04)).steps).toBe(1975);
  });

  it('runs one move at a time: STAGE_BUSY for moves, homing and setPosition meanwhile', async () => {
    const { stage } = await recordedStage(100, {}, { stepsPerTick: 5 });
    const first = stage.moveTo(200);
    for (const second of [
      () => stage.moveTo(300),
      () => stage.moveBy(1),
      () => stage.home(),
      () => stage.setPosition(5),
    ]) {
      expect(codeOf(await second().catch((e: unknown) => e))).toBe('STAGE_BUSY');
    }
    expect((await first).um).toBe(200);
  });

  it('enables the driver before each move and disables it after, with disableWhenIdle', async () => {
    const { stage, backend } = await recordedStage(100, { disableWhenIdle: true });
    await stage.moveTo(150);
    await stage.moveTo(120);
    expect(
      backend.calls.map((c) => (c.kind === 'enable' ? `enable ${c.on}` : `step ${c.direction}`)),
    ).toEqual(['enable true', 'step 1', 'enable false', 'enable true', 'step -1', 'step 1', 'enable false']);
  });

  it('keeps the driver enabled between moves without disableWhenIdle, until close', async () => {
    const { stage, backend } = await recordedStage(100, { disableWhenIdle: false });
    await stage.moveTo(150);
    await stage.moveTo(160);
    expect(backend.calls.filter((c) => c.kind === 'enable')).toEqual([{ kind: 'enable', on: true }]);
    await stage.close();
    expect(backend.closed).toBe(true);
    expect(codeOf(await stage.moveTo(1).catch((e: unknown) => e))).toBe('STAGE_BUSY');
  });

  it('reports move-start and move-end, and stops reporting after unsubscribe', async () => {
    const { stage } = await recordedStage(100);
    const events: StageEvent[] = [];
    const unsubscribe = stage.onEvent((e) => events.push(e));
    stage.onEvent(() => {
      throw new Error('a broken listener must not break moves');
    });
    await stage.moveTo(150.5);
    unsubscribe();
    await stage.moveTo(100);
    expect(events).toEqual([
      { type: 'move-start', fromUm: 100, toUm: 151 },
      { type: 'move-end', position: { um: 151, steps: 151, certain: true } },
    ]);
  });

  it('makes the position uncertain, with the reason, when the driver fails mid-move', async () => {
    const { stage, backend } = await recordedStage(100);
    backend.failNext = new Error('pigpio wave failed');
    await expect(stage.moveTo(150)).rejects.toThrow('pigpio wave failed');
    expect(stage.position().certain).toBe(false);
    expect(stage.position().uncertainReason).toContain('pigpio wave failed');
    expect(backend.enabled).toBe(false);
  });
});

describe('stopping', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stop() halts at once (no simulated time passes), rejecting the move; position = steps done', async () => {
    const motor = new SimulatedMotor({ stepsPerMm: 1000, timeScale: 1 });
    const stage = new StepperStage({ backend: motor, config: stageConfig({ maxSpeedUmPerS: 200 }) });
    await stage.setPosition(0);
    const events: StageEvent[] = [];
    stage.onEvent((e) => events.push(e));
    const move = stage.moveTo(400); // ≈ 2.2 s
    const rejected = move.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const clockAtStop = performance.now();
    await stage.stop();
    expect(performance.now()).toBe(clockAtStop);
    expect(codeOf(await rejected)).toBe('CANCELLED');
    const done = motor.motorSteps();
    expect(done).toBeGreaterThan(50);
    expect(done).toBeLessThan(150);
    expect(stage.position()).toEqual({ um: done, steps: done, certain: true });
    expect(events.at(-1)).toEqual({ type: 'stopped', position: stage.position() });
    expect(motor.isEnabled()).toBe(false);
  });
});

describe('cancelling', () => {
  it('aborts through MoveOptions.signal like stop(), counting the steps done', async () => {
    const { stage, backend } = await recordedStage(100, {}, { stepsPerTick: 10 });
    const controller = new AbortController();
    const move = stage.moveTo(400, { signal: controller.signal }).catch((e: unknown) => e);
    for (let t = 0; t < 5; t++) await nextTurn();
    controller.abort();
    expect(codeOf(await move)).toBe('CANCELLED');
    expect(backend.position).toBeLessThan(400);
    expect(stage.position()).toMatchObject({ steps: backend.position, certain: true });
  });

  it('does nothing for a signal already aborted', async () => {
    const { stage, backend } = await recordedStage(100);
    const error = await stage.moveTo(300, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('CANCELLED');
    expect(backend.calls).toEqual([]);
  });

  it('resolves stop() at once when nothing moves', async () => {
    const { stage } = await recordedStage(100);
    await expect(stage.stop()).resolves.toBeUndefined();
  });

  it('stops between overshoot and approach inside the limits', async () => {
    const { stage, backend } = await recordedStage(100);
    // The upward approach waits: the stop arrives after the overshoot, before the approach.
    backend.gate = (call) => (call.direction === 1 ? new Promise(() => undefined) : undefined);
    const move = stage.moveTo(5).catch((e: unknown) => e);
    while (backend.stepCalls().length < 2) await nextTurn();
    await stage.stop();
    expect(codeOf(await move)).toBe('CANCELLED');
    expect(backend.position).toBe(0); // overshot 10 µm below 5 µm, but only to minUm
    expect(stage.position()).toMatchObject({ steps: 0, certain: true });
    expect(Math.min(...backend.trace)).toBe(0);
  });

  it('makes the position uncertain when the backend cannot count the steps of a cut-short run', async () => {
    const { stage, backend } = await recordedStage(100, {}, { stepsPerTick: 10 });
    backend.exact = false;
    const move = stage.moveTo(400).catch((e: unknown) => e);
    await nextTurn();
    await stage.stop();
    expect(codeOf(await move)).toBe('CANCELLED');
    expect(stage.position().certain).toBe(false);
    expect(stage.position().uncertainReason).toMatch(
      /could not count the steps.*home the stage or set its position/,
    );
  });
});

describe('persistence', () => {
  let dir: string;
  let statePath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackscope-stage-'));
    statePath = join(dir, 'stage.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const openStage = (backend = new RecordingStepper()) =>
    StepperStage.open({ backend, config: stageConfig(), statePath });

  it('starts uncertain at 0 without a saved position', async () => {
    const stage = await openStage();
    expect(stage.position()).toMatchObject({ um: 0, certain: false });
    expect(stage.position().uncertainReason).toMatch(/^no saved position/);
  });

  it('is certain at the same position after a clean move, a close and a restart', async () => {
    const first = await openStage();
    await first.setPosition(100);
    await first.moveTo(250.4);
    await first.close();
    const second = await openStage();
    expect(second.position()).toEqual({ um: 250, steps: 250, certain: true });
  });

  it('restarts uncertain when killed after a move but before its end was saved (lazily)', async () => {
    const first = await openStage();
    await first.setPosition(100);
    await first.moveTo(250);
    // No close, and less than a second later: the process dies, the "moving" record is what is left.
    const second = await openStage();
    expect(second.position()).toMatchObject({ um: 100, certain: false });
    expect(second.position().uncertainReason).toMatch(/from 100 to 250 µm \(or before its end was saved\)/);
    await first.close();
  });

  it('makes each "moving" record durable before the first step, and a stack cost one write per move', async () => {
    const { fs: positionFs, counts } = countingPositionFs();
    const backend = new RecordingStepper({ startSteps: 100 });
    const seenAtFirstStep: { state: string; writes: number; fsyncs: number }[] = [];
    backend.gate = () => {
      const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { state: string };
      seenAtFirstStep.push({ state: saved.state, ...counts });
      return undefined;
    };
    const stage = await StepperStage.open({ backend, config: stageConfig(), statePath, positionFs });
    await stage.setPosition(100);
    const planes = [110, 120, 130, 140, 150, 160, 170, 180];
    for (const um of planes) await stage.moveTo(um);
    // Before every run of steps the file said "moving", fsynced and its folder fsynced.
    expect(seenAtFirstStep.map((s) => s.state)).toEqual(planes.map(() => 'moving'));
    expect(seenAtFirstStep.map((s) => s.writes)).toEqual(planes.map((_, i) => i + 2));
    expect(seenAtFirstStep.map((s) => s.fsyncs)).toEqual(planes.map((_, i) => 2 * (i + 2)));
    await stage.close();
    // setPosition, one "moving" record per move, the position on close: not two writes per move.
    expect(counts.writes).toBe(planes.length + 2);
    expect((await openStage()).position()).toEqual({ um: 180, steps: 180, certain: true });
  });

  it('is uncertain, with the reason, after a crash mid-move (the "moving" record left behind)', async () => {
    const backend = new RecordingStepper({ startSteps: 100 });
    backend.gate = () => new Promise(() => undefined); // the run never reaches its end, as under kill -9
    const crashed = await openStage(backend);
    await crashed.setPosition(100);
    void crashed.moveTo(300);
    while (backend.stepCalls().length === 0) await nextTurn();
    const restarted = await openStage();
    expect(restarted.position()).toEqual({
      um: 100,
      steps: 100,
      certain: false,
      uncertainReason:
        'the last run ended during a move from 100 to 300 µm (or before its end was saved); home the stage or set its position',
    });
  });

  it('keeps the exact position of a stopped move across a restart', async () => {
    const backend = new RecordingStepper({ startSteps: 100, stepsPerTick: 10 });
    const first = await openStage(backend);
    await first.setPosition(100);
    const move = first.moveTo(400).catch(() => undefined);
    for (let t = 0; t < 3; t++) await nextTurn();
    await first.stop();
    await move;
    expect((await openStage()).position()).toMatchObject({ steps: backend.position, certain: true });
  });

  it('opens with a corrupt state file, uncertain with the reason', async () => {
    await writeFile(statePath, '{"version":1,"state":"idle","um":');
    const stage = await openStage();
    expect(stage.position().certain).toBe(false);
    expect(stage.position().uncertainReason).toContain('unreadable');
  });
});

describe('homing', () => {
  const withSwitch = (overrides: Partial<StageConfig> = {}) =>
    stageConfig({ limitSwitch: { pin: 5, activeLow: true, atUm: 0, side: 'min' }, ...overrides });

  it('finds the simulated switch and sets the position there, certain', async () => {
    const motor = new SimulatedMotor({
      stepsPerMm: 1000,
      timeScale: 1e5,
      playUm: 5,
      startUm: 321,
      limitSwitchAtUm: 0,
    });
    const stage = new StepperStage({ backend: motor, config: withSwitch() });
    expect(stage.position().certain).toBe(false);
    expect(await stage.home()).toEqual({ um: 0, steps: 0, certain: true });
    expect(Math.abs(motor.carriageUm())).toBeLessThanOrEqual(stage.stepUm);
    await stage.moveTo(50);
    expect(stage.position().um).toBe(50);
  });

  it('approaches fast, backs off, approaches slowly, and sets atUm on the max side too', async () => {
    const backend = new RecordingStepper({ startSteps: 0, limitAtSteps: 480, limitSide: 'max' });
    const config = withSwitch({ limitSwitch: { pin: 5, activeLow: true, atUm: 480, side: 'max' } });
    const stage = new StepperStage({ backend, config });
    expect((await stage.home()).um).toBe(480);
    const [search, backoff, approach] = backend.stepCalls();
    expect([
      search.direction,
      search.untilLimit,
      backoff.direction,
      approach.direction,
      approach.untilLimit,
    ]).toEqual([1, true, -1, 1, true]);
    expect(Math.min(...approach.intervals)).toBeGreaterThan(Math.min(...search.intervals));
    expect(backend.position).toBe(480);
  });

  it('fails with HOMING_FAILED after the travel plus a margin when the switch never triggers', async () => {
    const backend = new RecordingStepper({ startSteps: 300, hasLimitSwitch: true });
    const stage = new StepperStage({ backend, config: withSwitch() });
    const error = await stage.home().catch((e: unknown) => e);
    expect(codeOf(error)).toBe('HOMING_FAILED');
    expect((error as Error).message).toMatch(/did not trigger within 560 µm/);
    expect(backend.stepCalls()).toHaveLength(1);
    expect(backend.stepCalls()[0].intervals.length).toBe(560);
    expect(stage.position().uncertainReason).toMatch(/^homing failed/);
  });

  it('refuses with STAGE_NO_HOMING without a switch (none configured, or none on the backend)', async () => {
    const noConfig = new StepperStage({
      backend: new RecordingStepper({ limitAtSteps: 0 }),
      config: stageConfig(),
    });
    expect(codeOf(await noConfig.home().catch((e: unknown) => e))).toBe('STAGE_NO_HOMING');
    const backend = new RecordingStepper();
    const noWire = new StepperStage({ backend, config: withSwitch() });
    expect(codeOf(await noWire.home().catch((e: unknown) => e))).toBe('STAGE_NO_HOMING');
    expect(backend.calls).toEqual([]);
  });
});
