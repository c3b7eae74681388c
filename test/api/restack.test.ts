// A restack through the API: a finished job's kept frames stacked again with other settings as a new
// job; refused for a job still running, an unknown or malformed id, or a job whose frames are gone.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  errorBody,
  sharpness,
  keptStack,
  startTestApp,
  waitForJob,
  type TestApp,
} from '../helpers/daemon.js';

let t: TestApp;
let sourceId = '';
let frames: Buffer[] = [];

beforeAll(async () => {
  t = await startTestApp();
  ({ sourceId, frames } = await keptStack(t));
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/stacks/:id/restack', () => {
  it('stacks the kept frames again with other settings as a new job; the source is unchanged', async () => {
    const before = await t.store.get(sourceId);
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/stacks/${sourceId}/restack`,
      payload: { stack: { method: 'pyramid', align: 'none' }, label: 'pyramid again' },
    });
    expect(response.statusCode).toBe(202);
    const { id } = response.json<{ id: string }>();
    expect(id).not.toBe(sourceId);
    const job = await waitForJob(t, id, ['done', 'failed']);
    expect(job).toMatchObject({
      status: 'done',
      kind: 'restack',
      sourceJobId: sourceId,
      label: 'pyramid again',
      params: { stack: { method: 'pyramid', align: 'none' } },
      progress: { captured: 5, stacked: 5, total: 5 },
    });
    const result = await t.app.inject({ url: `/api/stacks/${id}/result.jpg` });
    expect(result.statusCode).toBe(200);
    for (const frame of frames)
      expect(await sharpness(result.rawPayload)).toBeGreaterThan(await sharpness(frame));
    expect(await t.store.get(sourceId)).toEqual(before);
    // Stacked unaligned: nothing was estimated, so there is nothing to report.
    expect(job.alignment).toBeUndefined();
  });

  it('a centred capture aligns to a shot taken where the stage stood, and says where', async () => {
    const status = await t.app.inject({ url: '/api/status' });
    const { um } = status.json<{ stage: { position: { um: number } } }>().stage.position;
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 3, step: 10 },
    });
    const job = await waitForJob(t, response.json<{ id: string }>().id, ['done', 'failed']);
    expect(job.status).toBe('done');
    expect(job.referenceStageUm).toBe(um);
    expect(job.frames.map((f) => f.alignment?.source)).toEqual(['reference', 'reference', 'reference']);
    // The shot is not one of the job's frames, and is not left behind.
    expect(job.frames).toHaveLength(3);
    expect((await readdir(t.store.jobDir(job.id))).filter((n) => n.startsWith('reference'))).toEqual([]);
  });

  it('records each frame’s alignment by default, against the middle frame', async () => {
    const response = await t.app.inject({ method: 'POST', url: `/api/stacks/${sourceId}/restack` });
    const job = await waitForJob(t, response.json<{ id: string }>().id, ['done', 'failed']);
    expect(job.status).toBe('done');
    expect(job.referenceIndex).toBe(2);
    expect(job.alignment).toHaveLength(5);
    expect(job.alignment![2]).toMatchObject({ source: 'reference', trusted: true, resampled: false });
    // The API returns it as stored.
    const served = await t.app.inject({ url: `/api/stacks/${job.id}` });
    expect(served.json<{ alignment: unknown[] }>().alignment).toEqual(job.alignment);
    for (const a of job.alignment!) {
      expect(a).toMatchObject({ trusted: true });
      for (const key of ['dx', 'dy', 'scale', 'rotationDeg', 'confidence'])
        expect(Number.isFinite(a[key])).toBe(true);
    }
  });

  it('refuses a job that has not finished (409 JOB_ACTIVE), an unknown (404) or malformed (400) id', async () => {
    const running = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 3, step: 5 },
    });
    const runningId = running.json<{ id: string }>().id;
    const refused = await t.app.inject({ method: 'POST', url: `/api/stacks/${runningId}/restack` });
    expect(refused.statusCode).toBe(409);
    expect(errorBody(refused)).toMatchObject({
      error: 'JOB_ACTIVE',
      message: expect.stringContaining(runningId),
    });
    await waitForJob(t, runningId, ['done', 'failed']);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/stacks/20200101-000000-0000/restack' });
    expect(unknown.statusCode).toBe(404);
    expect(errorBody(unknown).error).toBe('NOT_FOUND');
    const malformed = await t.app.inject({ method: 'POST', url: '/api/stacks/not-an-id/restack' });
    expect(malformed.statusCode).toBe(400);
    expect(errorBody(malformed)).toMatchObject({
      error: 'BAD_ARGUMENT',
      message: expect.stringContaining('id'),
    });
  });

  it('refuses to restack a job whose frames were not kept (404), and says so for its frames', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 2, step: 5, keepFrames: false },
    });
    const id = response.json<{ id: string }>().id;
    const job = await waitForJob(t, id, ['done', 'failed']);
    expect(job).toMatchObject({ status: 'done', framesDeleted: true });
    const restack = await t.app.inject({ method: 'POST', url: `/api/stacks/${id}/restack` });
    expect(restack.statusCode).toBe(404);
    expect(errorBody(restack).message).toContain('no kept frames');
    const frame = await t.app.inject({ url: `/api/stacks/${id}/frames/0` });
    expect(frame.statusCode).toBe(404);
    expect(errorBody(frame).message).toContain('removed');
  });
});
