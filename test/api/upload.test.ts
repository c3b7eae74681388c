// Frames uploaded as multipart become an offline stack job (natural name order, settings as fields);
// bad uploads are refused whole with 4xx naming the problem, leaving no job behind.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody, keptStack, startTestApp, waitForJob, type TestApp } from '../helpers/daemon.js';

let t: TestApp;
let frames: Buffer[] = [];

interface Part {
  name: string;
  filename?: string;
  data: Buffer | string;
}

function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----stackscope-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename ? 'content-type: application/octet-stream\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function upload(parts: Part[]) {
  return t.app.inject({ method: 'POST', url: '/api/stacks/upload', ...multipart(parts) });
}

async function jobCount(): Promise<number> {
  return (await t.app.inject({ url: '/api/stacks?limit=100' })).json<{ jobs: unknown[] }>().jobs.length;
}

beforeAll(async () => {
  t = await startTestApp();
  ({ frames } = await keptStack(t));
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/stacks/upload', () => {
  it('stacks uploaded frames in natural name order with the settings given', async () => {
    // Names chosen so that plain string order (frame_10 < frame_2) would be wrong.
    const names = frames.map((_, i) => `frame_${[2, 10, 1, 30, 4][i]}.png`);
    const response = await upload([
      { name: 'method', data: 'pyramid' },
      ...frames.map((data, i) => ({ name: 'frames', filename: names[i], data })),
    ]);
    expect(response.statusCode).toBe(202);
    const { id } = response.json<{ id: string }>();
    const job = await waitForJob(t, id, ['done', 'failed']);
    expect(job).toMatchObject({ status: 'done', kind: 'upload', params: { stack: { method: 'pyramid' } } });
    expect(job.params.files).toEqual([
      'frame_1.png',
      'frame_2.png',
      'frame_4.png',
      'frame_10.png',
      'frame_30.png',
    ]);
    expect(job.frames).toHaveLength(5);
    // frame_1.png, the third part uploaded, is stacked first.
    const first = await t.app.inject({ url: `/api/stacks/${id}/frames/0` });
    expect(first.rawPayload).toEqual(frames[2]);
    const result = await t.app.inject({ url: `/api/stacks/${id}/result.jpg` });
    expect((await sharp(result.rawPayload).metadata()).width).toBe(160);
  });

  it('refuses bad uploads with 4xx naming the problem, and keeps no job of them', async () => {
    const jobs = await jobCount();
    const truncated = frames[1].subarray(0, frames[1].length - 20);
    const cases: { parts: Part[]; status: number; error: string; mentions: string }[] = [
      {
        parts: [{ name: 'f', filename: 'a.png', data: frames[0] }],
        status: 400,
        error: 'BAD_ARGUMENT',
        mentions: '2 or more',
      },
      {
        parts: [
          { name: 'f', filename: 'a.png', data: frames[0] },
          { name: 'f', filename: 'notes.txt', data: 'not an image at all' },
        ],
        status: 422,
        error: 'INPUT_UNREADABLE',
        mentions: 'notes.txt',
      },
      {
        parts: [
          { name: 'f', filename: 'a.png', data: frames[0] },
          { name: 'f', filename: 'cut.png', data: truncated },
        ],
        status: 422,
        error: 'INPUT_UNREADABLE',
        mentions: 'truncated',
      },
      {
        parts: [
          { name: 'method', data: 'blend' },
          { name: 'f', filename: 'a.png', data: frames[0] },
          { name: 'f', filename: 'b.png', data: frames[1] },
        ],
        status: 400,
        error: 'BAD_ARGUMENT',
        mentions: 'method',
      },
    ];
    for (const c of cases) {
      const response = await upload(c.parts);
      expect(response.statusCode, c.mentions).toBe(c.status);
      const body = errorBody(response);
      expect(body.error).toBe(c.error);
      expect(body.message).toContain(c.mentions);
    }
    const json = await t.app.inject({ method: 'POST', url: '/api/stacks/upload', payload: { frames: [] } });
    expect(json.statusCode).toBe(415);
    expect(errorBody(json).error).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await jobCount()).toBe(jobs);
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });

  it('fails the job (not the daemon) when the frames differ in size', async () => {
    const small = await sharp(frames[0]).resize(80, 60).png().toBuffer();
    const response = await upload([
      { name: 'f', filename: 'a.png', data: frames[0] },
      { name: 'f', filename: 'b.png', data: small },
    ]);
    expect(response.statusCode).toBe(202);
    const job = await waitForJob(t, response.json<{ id: string }>().id, ['done', 'failed']);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'INPUT_MISMATCH', message: expect.stringContaining('80×60') });
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });
});
