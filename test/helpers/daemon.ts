// Starts the daemon on the simulated microscope with a throw-away data folder for the API tests: its
// parts around a fastify app for inject(), or the real daemon listening on a random loopback port.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import pino from 'pino';
import sharp from 'sharp';
import { expect } from 'vitest';
import { buildApp, type BuildAppOptions } from '../../src/api/app.js';
import type { Config } from '../../src/config/index.js';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import type { EventBus } from '../../src/events.js';
import type { JobManager } from '../../src/jobs/manager.js';
import { createServices } from '../../src/services.js';
import { openSimulatedRig, type SimulatedRig } from '../../src/rig/simulated/rig.js';
import { JobStore } from '../../src/store/job-store.js';
import type { Manifest } from '../../src/store/manifest.js';
import { recoverJobs } from '../../src/store/recovery.js';
import type { StoreFs } from '../../src/store/store-fs.js';

/** Small, fast frames of a specimen 900–1000 µm deep; the stage starts at 950 µm. */
export const SMALL_SIMULATION = {
  width: 160,
  height: 120,
  depthRangeUm: 100,
  blurPxPerUm: 0.08,
  exposureMs: 0,
  timeScale: 100,
};

/** A stack across the whole specimen: 900–1000 µm by 10 µm, 11 frames. */
export const FULL_STACK = { start: 900, end: 1000, step: 10 };

/** Config keys making a 20-frame stack take seconds (moves at a tenth of real time, 100 ms exposures). */
export const SLOW_RIG = { rig: { simulated: { timeScale: 10, exposureMs: 1000 } } };

type Raw = Record<string, unknown>;

function merge(target: Raw, source: Raw): Raw {
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      target[key] = merge(typeof target[key] === 'object' ? { ...(target[key] as Raw) } : {}, value as Raw);
    else target[key] = value;
  }
  return target;
}

/** The test configuration: simulated rig, small frames, no settle, no disk reserve, loopback. */
export function testConfig(dataDir: string, overrides: Raw = {}): Config {
  const base: Raw = {
    dataDir,
    rig: { type: 'simulated', stage: { settleMs: 0 }, simulated: SMALL_SIMULATION },
    server: { host: '127.0.0.1' },
    jobs: { reserveMb: 0 },
  };
  return parseConfig(merge(base, overrides), 'test configuration');
}

export interface TestApp {
  app: FastifyInstance;
  rig: SimulatedRig;
  jobs: JobManager;
  store: JobStore;
  bus: EventBus;
  config: Config;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Configuration keys over testConfig's (nested, e.g. { jobs: { queue: false } }). */
  config?: Raw;
  /** An existing data folder (kept on close); absent: a new temp folder, removed on close. */
  dataDir?: string;
  /** The store's file system calls (fault injection). */
  storeFs?: StoreFs;
  app?: BuildAppOptions;
  /** Also start the timelapse scheduler (off: these tests drive jobs directly). */
  scheduler?: boolean;
  logger?: Logger;
}

/** The daemon's parts wired as startDaemon wires them, around an app that is not listening. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'stackscope-api-')));
  const config = testConfig(dataDir, options.config);
  const { logger } = options;
  const store = await JobStore.open({ dataDir, fs: options.storeFs, logger });
  await recoverJobs(store, { logger });
  const rig = await openSimulatedRig(config.rig, { stateDir: join(dataDir, 'state'), logger });
  const { bus, jobs, scheduler, context } = createServices({ config, rig, store, logger }, 'test');
  jobs.start();
  if (options.scheduler) await scheduler.start();
  const app = await buildApp(context, options.app);
  return {
    app,
    rig,
    jobs,
    store,
    bus,
    config,
    dataDir,
    async close() {
      if (options.scheduler) await scheduler.stop();
      await jobs.shutdown();
      await app.close();
      await rig.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestDaemon {
  url: string;
  dataDir: string;
  config: Config;
  close(): Promise<void>;
}

/** The real daemon (startDaemon), listening on a random loopback port, logging nothing. */
export async function startTestDaemon(options: { config?: Raw; dataDir?: string } = {}): Promise<TestDaemon> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'stackscope-daemon-')));
  const config = testConfig(dataDir, merge({ server: { port: 0 } }, options.config ?? {}));
  const daemon = await startDaemon(config, pino({ level: 'silent' }));
  return {
    url: daemon.url,
    dataDir,
    config,
    async close() {
      await daemon.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves with the manifest once job `id` reaches one of `statuses` (the store has it written:
 * the manager announces a finished status only after writing it), rejects after `timeoutMs`.
 */
export function waitForJob(
  t: Pick<TestApp, 'bus' | 'store'>,
  id: string,
  statuses: string[],
  timeoutMs = 15_000,
): Promise<Manifest> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, manifest?: Manifest) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve(manifest!);
    };
    const check = () =>
      t.store.get(id).then(
        (m) => statuses.includes(m.status) && finish(null, m),
        (error: Error) => finish(error),
      );
    const timer = setTimeout(
      () => finish(new Error(`job ${id} did not reach ${statuses.join('|')} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const unsubscribe = t.bus.subscribe((event) => {
      if (event.type === 'job' && event.id === id) void check();
    });
    void check();
  });
}

/** Polls GET /api/stacks/:id of a listening server until the job reaches one of `statuses`. */
export async function waitForJobHttp(
  url: string,
  id: string,
  statuses: string[],
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/stacks/${id}`);
    const job = (await response.json()) as Record<string, unknown>;
    last = String(job.status);
    if (statuses.includes(last)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not reach ${statuses.join('|')} in ${timeoutMs} ms (last: ${last})`);
}

/** POST /api/stacks through inject: the status code and the JSON answer. */
export async function submitStack(
  t: Pick<TestApp, 'app'>,
  body: object,
): Promise<{ status: number; body: { id: string; status: string; error?: string; message?: string } }> {
  const response = await t.app.inject({ method: 'POST', url: '/api/stacks', payload: body });
  return { status: response.statusCode, body: response.json() };
}

/** Resolves once job `id` has `n` frames recorded (it is then mid-stack). */
export async function framesAtLeast(t: Pick<TestApp, 'store'>, id: string, n: number): Promise<void> {
  await until(async () => (await t.store.get(id)).frames.length >= n);
}

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Mean absolute 4-neighbour Laplacian of an encoded image's green channel: higher is sharper. */
export async function sharpness(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h, channels: ch } = info;
  const g = ch >= 3 ? 1 : 0;
  let sum = 0;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const p = (y * w + x) * ch + g;
      sum += Math.abs(4 * data[p] - data[p - ch] - data[p + ch] - data[p - w * ch] - data[p + w * ch]);
    }
  return sum / ((w - 2) * (h - 2));
}

/** Checks an API error answer: JSON `{ error, message }` with the status and code expected. */
export function errorBody(response: { statusCode: number; headers: Record<string, unknown>; body: string }): {
  error: string;
  message: string;
} {
  const type = String(response.headers['content-type'] ?? '');
  if (!type.startsWith('application/json'))
    throw new Error(`expected a JSON error, got ${type}: ${response.body.slice(0, 200)}`);
  return JSON.parse(response.body) as { error: string; message: string };
}

/** A request the API must refuse, and how. */
export interface RefusedCase {
  method?: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: string;
  /** Words the message must contain: the field or the problem. */
  mentions?: string[];
}

/** Sends `c` through inject and checks the refusal: status, `{ error, message }` only, code, words. */
export async function expectRefused(app: FastifyInstance, c: RefusedCase): Promise<void> {
  const response = await app.inject({
    method: c.method ?? (c.body === undefined ? 'GET' : 'POST'),
    url: c.url,
    headers: c.headers,
    payload: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
    ...(typeof c.body === 'object' && !c.headers ? { headers: { 'content-type': 'application/json' } } : {}),
  });
  const label = `${c.method ?? ''} ${c.url} ${typeof c.body === 'string' ? c.body : JSON.stringify(c.body)}`;
  expect(response.statusCode, label).toBe(c.status);
  const body = errorBody(response);
  expect(Object.keys(body).sort(), label).toEqual(['error', 'message']);
  expect(body.error, label).toBe(c.error);
  for (const word of c.mentions ?? []) expect(body.message, label).toContain(word);
}

/** A finished 5-frame PNG stack whose frames were kept: the source for restack and upload tests. */
export async function keptStack(t: TestApp): Promise<{ sourceId: string; frames: Buffer[] }> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/stacks',
    payload: { start: 920, end: 980, step: 15, camera: { encoding: 'png' } },
  });
  const sourceId = response.json<{ id: string }>().id;
  const source = await waitForJob(t, sourceId, ['done', 'failed']);
  if (source.status !== 'done') throw new Error(`source stack ${sourceId} ended ${source.status}`);
  const frames = await Promise.all(source.frames.map((f) => readFile(t.store.frameFile(sourceId, f.file))));
  return { sourceId, frames };
}
