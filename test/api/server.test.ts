// The real daemon (startDaemon) listening on a loopback port: a stack over HTTP followed through the
// server-sent events stream, raw traversal paths sent over a socket, and the rig lock.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon.js';
import { FULL_STACK, sharpness, startTestDaemon, testConfig, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});

afterAll(async () => {
  await d?.close();
});

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads GET /api/events until `stop` says enough (or `timeoutMs`), returning the events seen. */
async function collectEvents(
  url: string,
  ready: () => Promise<void>,
  stop: (events: SseEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await fetch(`${url}/api/events`, { signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  await ready();
  try {
    while (!stop(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

/** GET with the path sent exactly as written (fetch would resolve dot segments first). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

let jobId = '';

describe('a stack over HTTP, followed by server-sent events', () => {
  it('streams the job from queued through capturing and stacking to done, with stage moves', async () => {
    const statuses: unknown[] = [];
    const events = await collectEvents(
      d.url,
      async () => {
        const response = await fetch(`${d.url}/api/stacks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...FULL_STACK, label: 'over http' }),
        });
        expect(response.status).toBe(202);
        jobId = ((await response.json()) as { id: string }).id;
        const status = (await (await fetch(`${d.url}/api/status`)).json()) as { job: { id: string } | null };
        statuses.push(status.job?.id);
      },
      (seen) => seen.some((e) => e.event === 'job' && e.data.status === 'done'),
    );
    expect(statuses).toEqual([jobId]);
    const job = events.filter((e) => e.event === 'job' && e.data.id === jobId).map((e) => e.data);
    const order = job.map((e) => e.status).filter((s, i, all) => s !== all[i - 1]);
    // Once stacking is announced, nothing says capturing again.
    expect(order).toEqual(['queued', 'capturing', 'stacking', 'done']);
    const captured = job.flatMap((e) => (e.progress ? [(e.progress as { captured: number }).captured] : []));
    expect(captured).toContain(1);
    expect(captured.at(-1)).toBe(11);
    expect(job.at(-1)).toMatchObject({ status: 'done', progress: { captured: 11, stacked: 11, total: 11 } });
    const moves = events.filter((e) => e.event === 'stage');
    expect(moves.filter((e) => e.data.event === 'move-end').map((e) => e.data.um)).toEqual(
      expect.arrayContaining([900, 950, 1000]),
    );
  });

  it('serves the finished job and its result over HTTP', async () => {
    const job = (await (await fetch(`${d.url}/api/stacks/${jobId}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ id: jobId, status: 'done', label: 'over http' });
    const result = await fetch(`${d.url}/api/stacks/${jobId}/result.jpg`);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('image/jpeg');
    const frame = await fetch(`${d.url}/api/stacks/${jobId}/frames/0`);
    expect(await sharpness(Buffer.from(await result.arrayBuffer()))).toBeGreaterThan(
      await sharpness(Buffer.from(await frame.arrayBuffer())),
    );
  });
});

describe('raw paths over the socket', () => {
  it('answers traversal attempts 4xx in JSON without reaching a file', async () => {
    const paths = [
      '/api/stacks/..%2f..%2fetc',
      '/api/stacks/../../state/rig.lock',
      '/api/stacks/%2e%2e/%2e%2e/state/rig.lock',
      '/api/stacks/%2e%2e%2f%2e%2e%2fstate%2frig.lock',
      '/api/stacks/..\\..\\state\\rig.lock',
      `/api/stacks/${jobId}/..%2fmanifest.json`,
      `/api/stacks/${jobId}/%2e%2e/manifest.json`,
      `/api/stacks/${jobId}/frames/..%2f..%2fmanifest.json`,
      `/api/stacks/${jobId}/frames/%2e%2e`,
      `/api/stacks/${jobId}/frames/0%00.jpg`,
      '/api/stacks/%zz',
    ];
    for (const path of paths) {
      const response = await rawGet(d.url, path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      expect(response.type, path).toContain('application/json');
      expect(Object.keys(JSON.parse(response.body) as object).sort(), path).toEqual(['error', 'message']);
      // Neither the rig lock (its pid) nor a manifest (its version) came back.
      expect(response.body, path).not.toMatch(/"pid"|"version"/);
    }
    expect((await rawGet(d.url, '/api/health')).status).toBe(200);
  });
});

describe('the rig lock', () => {
  it('refuses a second daemon on the same data folder (RIG_BUSY), the first keeps serving', async () => {
    const config = testConfig(d.dataDir, { server: { port: 0 } });
    await expect(startDaemon(config)).rejects.toMatchObject({ code: 'RIG_BUSY' });
    expect((await fetch(`${d.url}/api/health`)).status).toBe(200);
  });
});
