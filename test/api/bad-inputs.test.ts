// Bad requests are answered 4xx with `{ error, message }` naming the field or the problem, and leave
// the daemon healthy: malformed JSON, wrong media types, values out of range, oversized bodies,
// missing or wrong bearer tokens, too many requests. (Ids and paths: traversal.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  errorBody,
  expectRefused,
  startTestApp,
  waitForJob,
  type RefusedCase,
  type TestApp,
} from '../helpers/daemon.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

const json = { 'content-type': 'application/json' };

describe('POST /api/stacks with bad bodies', () => {
  it.each<RefusedCase>([
    {
      url: '/api/stacks',
      body: '{"start": 900, "end":',
      headers: json,
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['JSON'],
    },
    { url: '/api/stacks', body: '', headers: json, status: 400, error: 'BAD_ARGUMENT', mentions: ['empty'] },
    {
      url: '/api/stacks',
      body: 'start=900',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      error: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      url: '/api/stacks',
      body: 'start=900',
      headers: { 'content-type': 'text/plain' },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['expected object'],
    },
    {
      url: '/api/stacks',
      body: { start: 900, end: 1000, step: -1 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['step'],
    },
    {
      url: '/api/stacks',
      body: { start: 900, end: 1000, step: 0 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['step'],
    },
    {
      url: '/api/stacks',
      body: { frames: 1, step: 5 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['frames'],
    },
    {
      url: '/api/stacks',
      body: { frames: 1000, step: 5 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['frames'],
    },
    {
      url: '/api/stacks',
      body: { frames: 2.5, step: 5 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['frames'],
    },
    {
      url: '/api/stacks',
      body: { start: 'top', end: 1000, step: 5 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['start'],
    },
    {
      url: '/api/stacks',
      body: '{"start": 1e309, "end": 1000, "step": 5}',
      headers: json,
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['start'],
    },
    {
      url: '/api/stacks',
      body: { start: 900, end: 1000, step: 5, settleMs: 60_000 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['settleMs'],
    },
    {
      url: '/api/stacks',
      body: { frames: 3, step: 5, camera: { quality: 0 } },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['quality'],
    },
    {
      url: '/api/stacks',
      body: { frames: 3, step: 5, stack: { method: 'average' } },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['method'],
    },
    {
      url: '/api/stacks',
      body: { frames: 3, step: 5, label: 'x'.repeat(201) },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['label'],
    },
    {
      url: '/api/stacks',
      body: { frames: 3, step: 5, colour: 'red' },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['colour'],
    },
    { url: '/api/stacks', body: { step: 5 }, status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stacks', body: [1, 2, 3], status: 400, error: 'BAD_ARGUMENT' },
    // Beyond what the planner takes: finer than a microstep, too many planes, outside the soft limits.
    {
      url: '/api/stacks',
      body: { frames: 3, step: 0.001 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['step', 'smallest move'],
    },
    {
      url: '/api/stacks',
      body: { start: 0, end: 2000, step: 1 },
      status: 400,
      error: 'BAD_ARGUMENT',
      mentions: ['planes'],
    },
    {
      url: '/api/stacks',
      body: { start: 1900, end: 2100, step: 10 },
      status: 422,
      error: 'STAGE_LIMIT',
      mentions: ['2100', '2000'],
    },
    {
      url: '/api/stacks',
      body: { frames: 3, step: 5, pad: 'x'.repeat(70_000) },
      status: 413,
      error: 'TOO_LARGE',
    },
  ])('$body → $status $error', (c) => expectRefused(t.app, c));
});

describe('stage routes with bad bodies', () => {
  it.each<RefusedCase>([
    {
      url: '/api/stage/move',
      body: { to: 1e9 },
      status: 422,
      error: 'STAGE_LIMIT',
      mentions: ['1000000000'],
    },
    { url: '/api/stage/move', body: { by: -5000 }, status: 422, error: 'STAGE_LIMIT' },
    { url: '/api/stage/move', body: { to: 'up' }, status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stage/move', body: {}, status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stage/move', body: { to: 10, by: 10 }, status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stage/move', body: '{"by": -1e309}', headers: json, status: 400, error: 'BAD_ARGUMENT' },
    { url: '/api/stage/home', method: 'POST', status: 409, error: 'STAGE_NO_HOMING' },
  ])('$url $body → $status $error', (c) => expectRefused(t.app, c));

  it('left the stage where it was', () => {
    expect(t.rig.stage.position().um).toBeCloseTo(950, 6);
  });
});

describe('bearer token beyond loopback', () => {
  it('refuses changing requests without the right token (401), keeps reads open', async () => {
    const token = 'a-long-enough-test-token';
    const guarded = await startTestApp({ config: { server: { host: '0.0.0.0', token } } });
    try {
      const body = { frames: 2, step: 5 };
      for (const authorization of [undefined, 'Bearer wrong-token-of-same-size', `Basic ${token}`]) {
        const response = await guarded.app.inject({
          method: 'POST',
          url: '/api/stacks',
          payload: body,
          headers: authorization ? { authorization } : {},
        });
        expect(response.statusCode).toBe(401);
        expect(errorBody(response)).toMatchObject({
          error: 'UNAUTHORIZED',
          message: expect.stringContaining('Bearer'),
        });
      }
      expect((await guarded.app.inject({ url: '/api/stacks' })).statusCode).toBe(200);
      const accepted = await guarded.app.inject({
        method: 'POST',
        url: '/api/stacks',
        payload: body,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(accepted.statusCode).toBe(202);
    } finally {
      await guarded.close();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED in JSON past the limit, never for the status poll', async () => {
    const limited = await startTestApp({ app: { rateLimitPerMinute: 3 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await limited.app.inject({ url: '/api/stacks' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429]);
      const refused = await limited.app.inject({ url: '/api/health' });
      expect(refused.statusCode).toBe(429);
      expect(errorBody(refused).error).toBe('RATE_LIMITED');
      for (let i = 0; i < 5; i++)
        expect((await limited.app.inject({ url: '/api/status' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('afterwards', () => {
  it('is healthy and still runs a stack', async () => {
    const health = await t.app.inject({ url: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok' });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks',
      payload: { frames: 2, step: 5 },
    });
    expect(response.statusCode).toBe(202);
    expect((await waitForJob(t, response.json<{ id: string }>().id, ['done', 'failed'])).status).toBe('done');
  });
});
