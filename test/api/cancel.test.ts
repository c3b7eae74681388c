// Cancelling through the API: a running stack stops between planes keeping its frames, a queued one
// never starts; the stage is not moved under a job, and a stage stop ends the job's stack.
import { afterEach, describe, expect, it } from 'vitest';
import {
  errorBody,
  framesAtLeast,
  SLOW_RIG,
  startTestApp,
  submitStack,
  waitForJob,
  type TestApp,
} from '../helpers/daemon.js';

const SLOW_STACK = { frames: 20, step: 10 };
const QUICK_STACK = { frames: 2, step: 5 };

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('cancel', () => {
  it('cancels a running stack: 200 cancelled, frames so far kept, stage back at the start', async () => {
    t = await startTestApp({ config: SLOW_RIG });
    const startUm = t.rig.stage.position().um;
    const { body } = await submitStack(t, SLOW_STACK);
    await framesAtLeast(t, body.id, 2);
    const response = await t.app.inject({ method: 'DELETE', url: `/api/stacks/${body.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: body.id, status: 'cancelled' });
    const job = await t.store.get(body.id);
    expect(job).toMatchObject({ status: 'cancelled', note: 'cancelled by request' });
    expect(job.frames.length).toBeGreaterThanOrEqual(2);
    expect(job.frames.length).toBeLessThan(20);
    for (const frame of job.frames) {
      const file = await t.app.inject({ url: `/api/stacks/${body.id}/frames/${frame.index}` });
      expect(file.statusCode).toBe(200);
    }
    expect(t.jobs.running()).toBeNull();
    expect(t.rig.stage.position().um).toBeCloseTo(startUm, 6);
    expect(t.rig.indicator.state).toBe('idle');
    // A cancelled job has no results; it can be deleted now.
    expect((await t.app.inject({ url: `/api/stacks/${body.id}/result.jpg` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/stacks/${body.id}` })).statusCode).toBe(204);
  });

  it('cancels a queued job before it starts; the running one is untouched', async () => {
    t = await startTestApp({ config: SLOW_RIG });
    const running = await submitStack(t, SLOW_STACK);
    const queued = await submitStack(t, QUICK_STACK);
    const response = await t.app.inject({ method: 'DELETE', url: `/api/stacks/${queued.body.id}` });
    expect(response.json()).toEqual({ id: queued.body.id, status: 'cancelled' });
    const job = await t.store.get(queued.body.id);
    expect(job).toMatchObject({ status: 'cancelled', note: 'cancelled before it started', frames: [] });
    expect(t.jobs.running()?.id).toBe(running.body.id);
    expect(t.jobs.queuedCount()).toBe(0);
  });

  it('refuses stage moves while a job owns the rig (409), and takes them again afterwards', async () => {
    t = await startTestApp({ config: SLOW_RIG });
    const { body } = await submitStack(t, SLOW_STACK);
    await framesAtLeast(t, body.id, 1);
    for (const [url, payload] of [
      ['/api/stage/move', { to: 500 }],
      ['/api/stage/move', { by: 10 }],
      ['/api/stage/home', undefined],
    ] as const) {
      const refused = await t.app.inject({ method: 'POST', url, payload });
      expect(refused.statusCode).toBe(409);
      expect(errorBody(refused)).toMatchObject({
        error: 'RIG_BUSY',
        message: expect.stringContaining(body.id),
      });
    }
    await t.app.inject({ method: 'DELETE', url: `/api/stacks/${body.id}` });
    const moved = await t.app.inject({ method: 'POST', url: '/api/stage/move', payload: { by: 20 } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json<{ um: number }>().um).toBeCloseTo(970, 6);
  });

  it('stops a job whose move is stopped by POST /api/stage/stop, and leaves the rig usable', async () => {
    // Real-time moves (~0.2 s per plane) and instant exposures: the stop lands inside a move.
    t = await startTestApp({ config: { rig: { simulated: { timeScale: 1, exposureMs: 0 } } } });
    const { body } = await submitStack(t, SLOW_STACK);
    await framesAtLeast(t, body.id, 1);
    const moving = new Promise<void>((resolve) => {
      const unsubscribe = t!.bus.subscribe((e) => {
        if (e.type === 'stage' && e.event === 'move-start') {
          unsubscribe();
          resolve();
        }
      });
    });
    await moving;
    const stop = await t.app.inject({ method: 'POST', url: '/api/stage/stop' });
    expect(stop.statusCode).toBe(200);
    const job = await waitForJob(t, body.id, ['done', 'failed', 'cancelled']);
    // A stop landing mid-move cancels the job (it is the user's stop, not a failure).
    expect(job.status).toBe('cancelled');
    expect(job.frames.length).toBeLessThan(20);
    const next = await submitStack(t, QUICK_STACK);
    expect((await waitForJob(t, next.body.id, ['done', 'failed'])).status).toBe('done');
  });
});
