import { describe, expect, it } from 'vitest';
import { planFocusPositions } from '../../src/jobs/plan.js';

const context = { currentUm: 1000, limits: { minUm: 0, maxUm: 2000 }, stepUm: 0.0625 };

describe('planFocusPositions', () => {
  it('start/end/step: from start to end, the last plane not beyond end, either way', () => {
    expect(planFocusPositions({ start: 100, end: 150, step: 10 }, context)).toEqual([
      100, 110, 120, 130, 140, 150,
    ]);
    expect(planFocusPositions({ start: 100, end: 155, step: 10 }, context)).toHaveLength(6);
    expect(planFocusPositions({ start: 150, end: 100, step: 25 }, context)).toEqual([150, 125, 100]);
  });

  it('frames/step: centred on the current position, upwards, on whole stage steps', () => {
    const planes = planFocusPositions({ frames: 4, step: 5 }, { ...context, currentUm: 1000.03 });
    expect(planes).toHaveLength(4);
    expect((planes[0] + planes[3]) / 2).toBeCloseTo(1000.03, 1);
    for (const p of planes) expect(Number.isInteger(p / context.stepUm)).toBe(true);
    expect(planes[1] - planes[0]).toBeCloseTo(5, 6);
  });

  it('refuses a stack reaching past a soft limit before anything moves, naming the span and the limits', () => {
    expect(() => planFocusPositions({ frames: 20, step: 10 }, { ...context, currentUm: 50 })).toThrow(
      /the stack spans -45–145 µm, beyond the stage's soft limits 0–2000 µm/,
    );
    expect(() => planFocusPositions({ start: 1990, end: 2010, step: 5 }, context)).toThrow(
      /STAGE|soft limits/,
    );
  });

  it('names the field of a bad request', () => {
    expect(() => planFocusPositions({ frames: 1, step: 5 }, context)).toThrow(
      /frames: expected a whole number from 2 to 255, got 1/,
    );
    expect(() => planFocusPositions({ frames: 300, step: 5 }, context)).toThrow(/got 300/);
    expect(() => planFocusPositions({ frames: 5, step: 0 }, context)).toThrow(
      /step: expected a positive number/,
    );
    expect(() => planFocusPositions({ frames: 5, step: 0.01 }, context)).toThrow(
      /finer than the stage's smallest move \(0.063 µm\)/,
    );
    expect(() => planFocusPositions({ start: Number.NaN, end: 5, step: 1 }, context)).toThrow(
      /start: expected a position/,
    );
    expect(() => planFocusPositions({ start: 0, end: 1000, step: 1 }, context)).toThrow(
      /1001 planes; at most 255/,
    );
    expect(() => planFocusPositions({ start: 10, end: 12, step: 5 }, context)).toThrow(/gives 1 plane/);
  });
});
