// A capture-and-stack job through the API (app.inject on the simulated microscope): accepted, run,
// recorded, and its results and frames served, the result sharper than every frame it was made of.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_STACK, sharpness, startTestApp, waitForJob, type TestApp } from '../helpers/daemon.js';

let t: TestApp;
let id = '';

beforeAll(async () => {
  t = await startTestApp();
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/stacks',
    payload: { ...FULL_STACK, label: 'end to end', camera: { encoding: 'png' } },
  });
  expect(response.statusCode).toBe(202);
  id = response.json<{ id: string }>().id;
  await waitForJob(t, id, ['done', 'failed', 'cancelled', 'interrupted']);
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/stacks on the simulated rig', () => {
  it('runs the job to done and records every frame, its progress, timings and results', async () => {
    const response = await t.app.inject({ url: `/api/stacks/${id}` });
    expect(response.statusCode).toBe(200);
    const job = response.json();
    expect(job).toMatchObject({
      id,
      status: 'done',
      kind: 'capture',
      label: 'end to end',
      progress: { captured: 11, stacked: 11, total: 11 },
      results: { image: 'result.jpg', depth: 'depth.png' },
    });
    expect(job.params.planes).toEqual([900, 910, 920, 930, 940, 950, 960, 970, 980, 990, 1000]);
    expect(job.frames).toHaveLength(11);
    expect(job.frames.map((f: { stageUm: number }) => f.stageUm)).toEqual(job.params.planes);
    expect(job.frames.every((f: { alignment?: object }) => f.alignment)).toBe(true);
    expect(job.timings.width).toBe(160);
    expect(Date.parse(job.finishedAt)).toBeGreaterThanOrEqual(Date.parse(job.startedAt));
    // returnToStart: the stage is back where the stack began.
    expect(t.rig.stage.position().um).toBeCloseTo(950, 6);
    expect(t.jobs.running()).toBeNull();
  });

  it('serves a result sharper than every captured frame', async () => {
    const result = await t.app.inject({ url: `/api/stacks/${id}/result.jpg` });
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('image/jpeg');
    const resultSharpness = await sharpness(result.rawPayload);
    const list = await t.app.inject({ url: `/api/stacks/${id}/frames` });
    const { frames, deleted } = list.json<{ frames: { index: number; file: string }[]; deleted: boolean }>();
    expect(deleted).toBe(false);
    expect(frames.map((f) => f.file)).toEqual(
      Array.from({ length: 11 }, (_, i) => `frame-${String(i).padStart(4, '0')}.png`),
    );
    for (const frame of frames) {
      const response = await t.app.inject({ url: `/api/stacks/${id}/frames/${frame.index}` });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('image/png');
      expect(resultSharpness).toBeGreaterThan(await sharpness(response.rawPayload));
    }
  });

  it('serves the depth map as 16-bit grey, the preview in colour, and PNG/TIFF made on request', async () => {
    const depth = await t.app.inject({ url: `/api/stacks/${id}/depth.png` });
    const meta = await sharp(depth.rawPayload).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 160, height: 120, channels: 1, depth: 'ushort' });
    const preview = await sharp(
      (await t.app.inject({ url: `/api/stacks/${id}/depth-preview.png` })).rawPayload,
    ).metadata();
    expect(preview.channels).toBe(3);
    for (const [file, format] of [
      ['result.png', 'png'],
      ['result.tif', 'tiff'],
    ] as const) {
      const response = await t.app.inject({ url: `/api/stacks/${id}/${file}` });
      expect(response.statusCode).toBe(200);
      expect((await sharp(response.rawPayload).metadata()).format).toBe(format);
    }
  });

  it('answers conditional and range requests for results', async () => {
    const first = await t.app.inject({ url: `/api/stacks/${id}/result.jpg` });
    const etag = first.headers.etag as string;
    expect(etag).toBeTruthy();
    const again = await t.app.inject({
      url: `/api/stacks/${id}/result.jpg`,
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
    const part = await t.app.inject({
      url: `/api/stacks/${id}/result.jpg`,
      headers: { range: 'bytes=0-99' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload).toEqual(first.rawPayload.subarray(0, 100));
  });

  it('lists jobs newest first, paginated, with frame counts instead of frame lists', async () => {
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 2, step: 5, label: 'second' },
    });
    const secondId = second.json<{ id: string }>().id;
    await waitForJob(t, secondId, ['done']);
    const page = await t.app.inject({ url: '/api/stacks?limit=1' });
    expect(page.statusCode).toBe(200);
    const body = page.json<{ jobs: Record<string, unknown>[]; next?: string }>();
    expect(body.jobs.map((j) => j.id)).toEqual([secondId]);
    expect(body.jobs[0]).toMatchObject({ frameCount: 2 });
    expect(body.jobs[0]).not.toHaveProperty('frames');
    expect(body.next).toBe(secondId);
    const older = await t.app.inject({ url: `/api/stacks?limit=1&before=${body.next}` });
    expect(older.json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id)).toEqual([id]);
  });

  it('deletes a finished job: 204, then 404 for it and its files', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 2, step: 5 },
    });
    const doomed = created.json<{ id: string }>().id;
    await waitForJob(t, doomed, ['done']);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/stacks/${doomed}` });
    expect(deleted.statusCode).toBe(204);
    for (const url of [
      `/api/stacks/${doomed}`,
      `/api/stacks/${doomed}/result.jpg`,
      `/api/stacks/${doomed}/frames/0`,
    ]) {
      const response = await t.app.inject({ url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ error: 'NOT_FOUND' });
    }
  });
});
