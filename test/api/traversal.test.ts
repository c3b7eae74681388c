// Unknown ids, and path traversal in ids, file names and frame numbers (encoded slashes and dots,
// backslashes, over-long segments, bad %-escapes), all answered 4xx in JSON without touching a file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectRefused,
  startTestApp,
  waitForJob,
  type RefusedCase,
  type TestApp,
} from '../helpers/daemon.js';

let t: TestApp;
let id = '';

beforeAll(async () => {
  t = await startTestApp();
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/stacks',
    payload: { frames: 2, step: 5 },
  });
  id = response.json<{ id: string }>().id;
  expect((await waitForJob(t, id, ['done', 'failed'])).status).toBe('done');
});

afterAll(async () => {
  await t?.close();
});

describe('unknown ids and traversal attempts', () => {
  it.each<RefusedCase>([
    {
      url: '/api/stacks/20200101-000000-0000',
      status: 404,
      error: 'NOT_FOUND',
      mentions: ['20200101-000000-0000'],
    },
    { url: '/api/stacks/20200101-000000-0000/result.jpg', status: 404, error: 'NOT_FOUND' },
    { url: '/api/stacks/20200101-000000-0000/frames', status: 404, error: 'NOT_FOUND' },
    { method: 'DELETE', url: '/api/stacks/20200101-000000-0000', status: 404, error: 'NOT_FOUND' },
    { url: '/api/stacks/not-a-job', status: 400, error: 'BAD_ARGUMENT', mentions: ['id'] },
    { url: '/api/stacks/..%2f..%2fetc', status: 400, error: 'BAD_ARGUMENT', mentions: ['id'] },
    { url: '/api/stacks/..%2F..%2Fetc%2Fpasswd', status: 400, error: 'BAD_ARGUMENT' },
    // inject() resolves %2e%2e segments as a URL parser does: they climb out of /api/stacks/ to no route.
    { url: '/api/stacks/%2e%2e', status: 404, error: 'NOT_FOUND' },
    { url: '/api/stacks/%2e%2e/%2e%2e/state', status: 404, error: 'NOT_FOUND' },
    { url: '/api/stacks/%zz', status: 400, error: 'BAD_ARGUMENT', mentions: ['%-escape'] },
    {
      url: '/api/stacks/20200101-000000-0000/%E0%A4%A',
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['%-escape'],
    },
    { url: '/api/stacks/..%5c..%5cstate', status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stacks/..%2f..%2fstate/result.jpg', status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stacks/..%2f..%2fstate/frames/0', status: 400, error: 'BAD_ARGUMENT' },
    { method: 'DELETE', url: '/api/stacks/..%2f..%2fstate', status: 400, error: 'BAD_ARGUMENT' },
    { method: 'POST', url: '/api/stacks/..%2f..%2fstate/restack', status: 400, error: 'BAD_ARGUMENT' },
    {
      url: `/api/stacks/${'9'.repeat(5000)}`,
      status: 414,
      error: 'BAD_ARGUMENT',
      mentions: ['longer than 200'],
    },
    { url: '/api/stacks?limit=0', status: 400, error: 'BAD_ARGUMENT', mentions: ['limit'] },
    { url: '/api/stacks?limit=many', status: 400, error: 'BAD_ARGUMENT', mentions: ['limit'] },
    { url: '/api/stacks?before=..%2f..%2f', status: 400, error: 'BAD_ARGUMENT', mentions: ['before'] },
    { url: '/api/nothing-here', status: 404, error: 'NOT_FOUND' },
  ])('$method $url → $status $error', (c) => expectRefused(t.app, c));

  it('refuses file names and frame numbers that are not the job’s own', async () => {
    const cases: RefusedCase[] = [
      { url: `/api/stacks/${id}/manifest.json`, status: 400, error: 'BAD_ARGUMENT', mentions: ['file'] },
      { url: `/api/stacks/${id}/..%2fmanifest.json`, status: 400, error: 'BAD_ARGUMENT' },
      { url: `/api/stacks/${id}/..%2f..%2fstate%2frig.lock`, status: 400, error: 'BAD_ARGUMENT' },
      { url: `/api/stacks/${id}/%2e%2e%2f${id}%2fmanifest.json`, status: 400, error: 'BAD_ARGUMENT' },
      { url: `/api/stacks/${id}/frames%2f..%2fmanifest.json`, status: 400, error: 'BAD_ARGUMENT' },
      {
        url: `/api/stacks/${id}/frames/..%2f..%2fmanifest.json`,
        status: 400,
        error: 'BAD_ARGUMENT',
        mentions: ['n'],
      },
      { url: `/api/stacks/${id}/frames/-1`, status: 400, error: 'BAD_ARGUMENT', mentions: ['n'] },
      { url: `/api/stacks/${id}/frames/100000`, status: 400, error: 'BAD_ARGUMENT', mentions: ['n'] },
      { url: `/api/stacks/${id}/frames/1.5`, status: 400, error: 'BAD_ARGUMENT', mentions: ['n'] },
      { url: `/api/stacks/${id}/frames/first`, status: 400, error: 'BAD_ARGUMENT', mentions: ['n'] },
      { url: `/api/stacks/${id}/frames/2`, status: 404, error: 'NOT_FOUND', mentions: ['frame 2'] },
      { url: `/api/stacks/${id}/frames/99999`, status: 404, error: 'NOT_FOUND' },
    ];
    for (const c of cases) await expectRefused(t.app, c);
    // The job's own files are still served, and nothing above leaked a manifest.
    expect((await t.app.inject({ url: `/api/stacks/${id}/frames/1` })).statusCode).toBe(200);
  });
});

describe('afterwards', () => {
  it('is healthy, and the job is whole', async () => {
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    const job = await t.app.inject({ url: `/api/stacks/${id}` });
    expect(job.json()).toMatchObject({ id, status: 'done', progress: { captured: 2, stacked: 2 } });
  });
});
