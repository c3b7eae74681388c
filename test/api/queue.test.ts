// One rig job at a time: a second stack is queued (or refused with 409 when queueing is off or the
// queue is full) and runs after the first; the capture button starts and cancels stacks.
import { afterEach, describe, expect, it } from 'vitest';
import {
  errorBody,
  framesAtLeast,
  SLOW_RIG,
  startTestApp,
  submitStack,
  until,
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

describe('queue', () => {
  it('queues a stack asked for while another runs, runs it after, and reports both in /api/status', async () => {
    t = await startTestApp({ config: SLOW_RIG });
    const first = await submitStack(t, SLOW_STACK);
    const second = await submitStack(t, QUICK_STACK);
    expect(first.status).toBe(202);
    expect(second).toMatchObject({ status: 202, body: { status: 'queued' } });
    await framesAtLeast(t, first.body.id, 1);
    const status = (await t.app.inject({ url: '/api/status' })).json();
    expect(status).toMatchObject({ job: { id: first.body.id, status: 'capturing' }, queued: 1 });
    expect(status.rig).toMatchObject({ kind: 'simulated', indicator: 'capturing' });
    // Cancelling the first lets the second run.
    await t.app.inject({ method: 'DELETE', url: `/api/stacks/${first.body.id}` });
    const done = await waitForJob(t, second.body.id, ['done', 'failed']);
    expect(done.status).toBe('done');
    const cancelled = await t.store.get(first.body.id);
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(Date.parse(cancelled.finishedAt!));
  });

  it('answers 409 RIG_BUSY, naming the running job, when queueing is off', async () => {
    t = await startTestApp({ config: { ...SLOW_RIG, jobs: { queue: false } } });
    const first = await submitStack(t, SLOW_STACK);
    const refused = await t.app.inject({ method: 'POST', url: '/api/stacks', payload: QUICK_STACK });
    expect(refused.statusCode).toBe(409);
    const body = errorBody(refused);
    expect(body.error).toBe('RIG_BUSY');
    expect(body.message).toContain(first.body.id);
    expect(body.message).toContain('jobs.queue');
    // Nothing was created for the refused request.
    const list = (await t.app.inject({ url: '/api/stacks' })).json<{ jobs: unknown[] }>();
    expect(list.jobs).toHaveLength(1);
  });

  it('answers 409 when the queue is full', async () => {
    t = await startTestApp({ config: { ...SLOW_RIG, jobs: { maxQueued: 1 } } });
    await submitStack(t, SLOW_STACK);
    expect((await submitStack(t, QUICK_STACK)).status).toBe(202);
    const refused = await t.app.inject({ method: 'POST', url: '/api/stacks', payload: QUICK_STACK });
    expect(refused.statusCode).toBe(409);
    expect(errorBody(refused)).toMatchObject({
      error: 'RIG_BUSY',
      message: expect.stringContaining('queue is full'),
    });
  });

  it('the capture button: a short press starts the configured stack, a long press cancels it', async () => {
    t = await startTestApp({ config: { ...SLOW_RIG, jobs: { buttonStack: { frames: 10, step: 10 } } } });
    const buttons: string[] = [];
    t.bus.subscribe((e) => e.type === 'button' && buttons.push(`${e.kind}: ${e.action}`));
    t.rig.button.press('short');
    await until(() => t!.jobs.running() !== null);
    const id = t.jobs.running()!.id;
    await until(async () => (await t!.store.get(id)).frames.length >= 1);
    t.rig.button.press('long');
    const job = await waitForJob(t, id, ['cancelled', 'done', 'failed']);
    expect(job).toMatchObject({ status: 'cancelled', label: 'button', params: { frames: 10, step: 10 } });
    await until(() => buttons.length === 2);
    expect(buttons).toEqual([`short: started job ${id}`, `long: cancelled job ${id}`]);
  });
});
