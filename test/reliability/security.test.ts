// The bearer token beyond loopback: every changing route refuses a request without it (routes listed
// from the app's router, so a new route cannot slip through), reads too with server.protectReads (the
// event stream also by ?token=), and the token never reaches the log.
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody } from '../helpers/daemon.js';
import { listRoutes, startFullApp, type FullApp } from './full-app.js';

const TOKEN = 'reliability-secret-7f3a9c1e';
const JOB_ID = '20261128-031500-ab12';

/** A URL for a route pattern: well-formed ids, so only the token check stands in the way. */
function sampleUrl(pattern: string): string {
  return pattern
    .replace('/api/schedules/:id', '/api/schedules/some-schedule')
    .replace(':id', JOB_ID)
    .replace(':n', '0')
    .replace('mesh.:format', 'mesh.stl')
    .replace(':file', 'result.jpg')
    .replace('*', 'index.html');
}

const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function openEvents(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers }, resolve).on('error', reject);
  });
}

describe('token on every changing route (server beyond loopback, reads open)', () => {
  let t: FullApp;
  beforeAll(async () => {
    t = await startFullApp({ config: { server: { host: '0.0.0.0', token: TOKEN } } });
  });
  afterAll(async () => t?.close());

  it('lists the changing routes from the router: stage, stacks, upload, restack, schedules', () => {
    const changing = listRoutes(t.app).filter((r) => CHANGING.has(r.method));
    expect(changing.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /api/stage/move',
        'POST /api/stage/home',
        'POST /api/stage/stop',
        'POST /api/stacks',
        'POST /api/stacks/upload',
        'DELETE /api/stacks/:id',
        'POST /api/stacks/:id/restack',
        'POST /api/schedules',
        'PATCH /api/schedules/:id',
        'DELETE /api/schedules/:id',
      ]),
    );
  });

  it('answers every one 401 UNAUTHORIZED without the token, with a wrong one, or with it in the query', async () => {
    const changing = listRoutes(t.app).filter((r) => CHANGING.has(r.method));
    const before = t.rig.stage.position().um;
    const attempts: { headers: Record<string, string>; query: string }[] = [
      { headers: {}, query: '' },
      { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }, query: '' },
      { headers: { authorization: `Bearer ${TOKEN}-longer` }, query: '' },
      { headers: { authorization: TOKEN }, query: '' },
      { headers: {}, query: `?token=${TOKEN}` },
    ];
    let refused = 0;
    for (const route of changing)
      for (const attempt of attempts) {
        const response = await t.app.inject({
          method: route.method as 'POST',
          url: sampleUrl(route.url) + attempt.query,
          headers: { 'content-type': 'application/json', ...attempt.headers },
          payload: JSON.stringify({ frames: 2, step: 5 }),
        });
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(errorBody(response).error).toBe('UNAUTHORIZED');
        refused++;
      }
    expect(refused).toBe(changing.length * attempts.length);
    // Nothing happened: no job, no schedule, the stage where it was.
    expect((await t.store.list()).jobs).toEqual([]);
    expect((await t.app.inject({ url: '/api/schedules' })).json()).toEqual({ schedules: [] });
    expect(t.rig.stage.position().um).toBe(before);
  });

  it('lets the right token through, and reads stay open without it', async () => {
    const moved = await t.app.inject({
      method: 'POST',
      url: '/api/stage/move',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { by: 5 },
    });
    expect(moved.statusCode).toBe(200);
    for (const url of ['/api/status', '/api/health', '/api/stacks', '/api/schedules'])
      expect((await t.app.inject({ url })).statusCode, url).toBe(200);
  });
});

describe('server.protectReads', () => {
  let t: FullApp;
  const logLines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await startFullApp({
      config: { server: { host: '0.0.0.0', token: TOKEN, protectReads: true } },
      logger: pino({ level: 'trace' }, sink),
    });
    // The app is built for 0.0.0.0 (the token applies) but listens on loopback only, for the test.
    await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => t?.close());

  it('refuses every /api/ read without the token, the event stream included', async () => {
    const reads = listRoutes(t.app).filter((r) => r.method === 'GET' && r.url.startsWith('/api/'));
    expect(reads.length).toBeGreaterThanOrEqual(12);
    for (const route of reads) {
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await t.app.inject({ method, url: sampleUrl(route.url) });
        expect(response.statusCode, `${method} ${route.url}`).toBe(401);
      }
    }
    // The matched route decides, not the spelling of the URL.
    const escaped = await t.app.inject({ url: '/%61pi/status' });
    expect(escaped.statusCode).not.toBe(200);
    expect((await t.app.inject({ url: '/api/no-such-route' })).statusCode).toBe(401);
  });

  it('takes ?token= on /api/events only', async () => {
    expect((await t.app.inject({ url: `/api/status?token=${TOKEN}` })).statusCode).toBe(401);
    expect((await t.app.inject({ url: `/api/stacks?token=${TOKEN}` })).statusCode).toBe(401);
    const port = (t.app.server.address() as AddressInfo).port;
    const refused = await openEvents(port, `/api/events?token=${TOKEN.slice(1)}`);
    expect(refused.statusCode).toBe(401);
    refused.resume();
    const stream = await openEvents(port, `/api/events?token=${encodeURIComponent(TOKEN)}`);
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
    stream.destroy();
    const byHeader = await openEvents(port, '/api/events', { authorization: `Bearer ${TOKEN}` });
    expect(byHeader.statusCode).toBe(200);
    byHeader.destroy();
  });

  it('serves reads with the token, and leaves the page and the API docs open', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const url of ['/api/status', '/api/health', '/api/stacks', '/api/schedules'])
      expect((await t.app.inject({ url, headers: auth })).statusCode, url).toBe(200);
    expect((await t.app.inject({ url: '/docs/json' })).statusCode).toBe(200);
  });

  it('never writes the token to the log, though every request above was logged', () => {
    const log = logLines.join('');
    expect(log).toContain('incoming request');
    expect(log).toContain('/api/events?token=[redacted]');
    expect(log).not.toContain(TOKEN);
    // Nor the near misses a guesser sent.
    expect(log).not.toContain(TOKEN.slice(1));
  });
});

describe('a token on loopback', () => {
  it('is not asked for: the server is not reachable from the network', async () => {
    const t = await startFullApp({
      config: { server: { host: '127.0.0.1', token: TOKEN, protectReads: true } },
    });
    try {
      expect((await t.app.inject({ url: '/api/status' })).statusCode).toBe(200);
      const moved = await t.app.inject({ method: 'POST', url: '/api/stage/move', payload: { by: 1 } });
      expect(moved.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
