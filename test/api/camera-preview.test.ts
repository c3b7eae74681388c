// GET /api/camera/preview.jpg: a frame where the stage is, while idle; refused during a job; a stack
// asked for during a preview waits for it, then runs.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  framesAtLeast,
  SLOW_RIG,
  startTestApp,
  submitStack,
  waitForJob,
  type TestApp,
} from '../helpers/daemon.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('camera preview', () => {
  it('answers a real JPEG of the camera’s size while idle, never cached', async () => {
    t = await startTestApp();
    const response = await t.app.inject({ url: '/api/camera/preview.jpg' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['cache-control']).toBe('no-store');
    const meta = await sharp(response.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([
      'jpeg',
      t.config.rig.simulated.width,
      t.config.rig.simulated.height,
    ]);
  });

  it('is refused with RIG_BUSY while a job owns the rig', async () => {
    t = await startTestApp({ config: SLOW_RIG });
    const job = await submitStack(t, { frames: 20, step: 10 });
    await framesAtLeast(t, job.body.id, 1);
    const response = await t.app.inject({ url: '/api/camera/preview.jpg' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      error: 'RIG_BUSY',
      message: expect.stringContaining(job.body.id),
    });
    await t.app.inject({ method: 'DELETE', url: `/api/stacks/${job.body.id}` });
  });

  it('a stack asked for during a preview starts once the preview is done', async () => {
    t = await startTestApp();
    const preview = t.app.inject({ url: '/api/camera/preview.jpg' });
    const job = await submitStack(t, { frames: 3, step: 10 });
    expect(job.status).toBe(202);
    expect((await preview).statusCode).toBe(200);
    expect((await waitForJob(t, job.body.id, ['done', 'failed'])).status).toBe('done');
  });
});
