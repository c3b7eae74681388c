// GET /api/stacks/:id/mesh.(stl|ply|glb) beside the stacks routes: built on the first request from the
// job's files (on a worker thread), cached in its folder, calibrated from the job's planes (or its source's, or the
// configured default, as the x-stackscope-calibration header says), 404 until the job is done.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/api/context.js';
import { installErrorHandling } from '../../src/api/errors.js';
import { meshRoutes } from '../../src/api/routes/mesh.js';
import { stackRoutes } from '../../src/api/routes/stacks.js';
import { configSchema, type Config } from '../../src/config/index.js';
import { EventBus } from '../../src/events.js';
import { DEFAULT_MESH_CONFIG } from '../../src/mesh/config-schema.js';
import { encodeDepthPng, encodeImage } from '../../src/stack/io.js';
import { JobStore, type NewJob } from '../../src/store/job-store.js';
import { manifoldProblems, parseStl, syntheticInput, weld } from './mesh-helpers.js';

const W = 64;
const H = 48;
// A dome 0–4 frames high: with 5 µm planes, 20 µm of relief.
const input = syntheticInput(W, H, (x, y) => 4 * Math.max(0, 1 - ((x - 32) ** 2 + (y - 24) ** 2) / 30 ** 2));

let dataDir: string;
let store: JobStore;
let app: FastifyInstance;

async function startApp(mesh?: Partial<typeof DEFAULT_MESH_CONFIG>): Promise<void> {
  const base = configSchema.parse({ dataDir });
  const config = (mesh ? { ...base, mesh: { ...DEFAULT_MESH_CONFIG, ...mesh } } : base) as Config;
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  await app.register(fastifyStatic, { root: store.jobsDir, serve: false });
  // The mesh routes only read the store and the configuration; the rest of the context is unused.
  const ctx = { config, store, bus: new EventBus(), version: 'test' } as unknown as AppContext;
  await app.register(stackRoutes, ctx);
  await app.register(meshRoutes, ctx);
}

/** A finished job with the files a stack leaves (depth, confidence, result). */
async function doneJob(job: NewJob): Promise<string> {
  const created = await store.create(job);
  const dir = store.jobDir(created.id);
  await writeFile(join(dir, 'depth.png'), await encodeDepthPng(input.depth, W, H));
  await writeFile(
    join(dir, 'confidence.png'),
    await encodeImage({ width: W, height: H, channels: 1, bitDepth: 8, data: input.confidence }, 'png'),
  );
  await writeFile(
    join(dir, 'result.jpg'),
    await encodeImage({ width: W, height: H, channels: 3, bitDepth: 8, data: input.image.data }, 'jpeg'),
  );
  await store.update(created.id, (m) => {
    m.status = 'done';
    m.results = { image: 'result.jpg', depth: 'depth.png', confidence: 'confidence.png' };
  });
  return created.id;
}

const planes = Array.from({ length: 9 }, (_, i) => 200 + 5 * i);

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stackscope-mesh-api-'));
  store = await JobStore.open({ dataDir });
});
afterEach(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Height span of a GLB's positions (y is up, metres). */
function glbHeightSpan(body: Buffer): number {
  const jsonLength = body.readUInt32LE(12);
  const json = JSON.parse(body.toString('utf8', 20, 20 + jsonLength));
  const position = json.accessors[json.meshes[0].primitives[0].attributes.POSITION];
  return position.max[1] - position.min[1];
}

describe('GET /api/stacks/:id/mesh.:format', () => {
  it('builds a watertight STL from a capture job, calibrated by its planes, and serves it again from the folder', async () => {
    await startApp();
    const id = await doneJob({ kind: 'capture', params: { start: 200, end: 240, step: 5, planes } });
    const first = await app.inject({ url: `/api/stacks/${id}/mesh.stl` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('model/stl');
    expect(first.headers['content-disposition']).toBe(`attachment; filename="stack-${id}.stl"`);
    expect(first.headers['x-stackscope-calibration']).toMatch(
      /umPerPixel=1; umPerFrame=5; umPerFrameFrom=planes; zScale=1/,
    );
    const solid = weld(parseStl(first.rawPayload).corners);
    expect(manifoldProblems(solid.triangles)).toEqual([]);
    // The cached file answers the next request even with the sources gone.
    await rm(join(store.jobDir(id), 'depth.png'));
    const again = await app.inject({ url: `/api/stacks/${id}/mesh.stl` });
    expect(again.statusCode).toBe(200);
    expect(again.rawPayload.equals(first.rawPayload)).toBe(true);
  });

  it('scales heights by the planes’ spacing and zScale, and keeps to targetTriangles', async () => {
    await startApp();
    const id = await doneJob({ kind: 'capture', params: { planes } });
    const glb = await app.inject({ url: `/api/stacks/${id}/mesh.glb?zScale=3` });
    expect(glb.statusCode).toBe(200);
    expect(glb.headers['content-type']).toBe('model/gltf-binary');
    // 4 frames × 5 µm × 3, in metres; the dome's cleaned top is within a few % of its peak.
    expect(glbHeightSpan(glb.rawPayload)).toBeGreaterThan(0.95 * 60e-6);
    expect(glbHeightSpan(glb.rawPayload)).toBeLessThan(1.01 * 60e-6);
    const ply = await app.inject({ url: `/api/stacks/${id}/mesh.ply?targetTriangles=50` });
    expect(ply.statusCode).toBe(200);
    expect(
      Number(/element face (\d+)/.exec(ply.rawPayload.toString('latin1', 0, 400))?.[1]),
    ).toBeLessThanOrEqual(50);
  });

  it('takes a restack’s spacing from its source job, and an upload’s from the configuration', async () => {
    await startApp({ umPerFrame: 7, umPerPixel: 2.5 });
    const source = await doneJob({ kind: 'capture', params: { planes: [300, 290, 280, 270] } });
    const restack = await doneJob({ kind: 'restack', params: { stack: {} }, sourceJobId: source });
    const upload = await doneJob({ kind: 'upload', params: {} });
    const fromSource = await app.inject({ url: `/api/stacks/${restack}/mesh.ply` });
    expect(fromSource.headers['x-stackscope-calibration']).toMatch(
      /umPerPixel=2.5; umPerFrame=-10; umPerFrameFrom=source-job/,
    );
    const fromConfig = await app.inject({ url: `/api/stacks/${upload}/mesh.ply` });
    expect(fromConfig.statusCode).toBe(200);
    expect(fromConfig.headers['x-stackscope-calibration']).toMatch(/umPerFrame=7; umPerFrameFrom=default/);
  });

  it('answers 404 until the job is done, 400 for an unknown format or a bad query', async () => {
    await startApp();
    const queued = await store.create({ kind: 'upload' });
    const notYet = await app.inject({ url: `/api/stacks/${queued.id}/mesh.glb` });
    expect(notYet.statusCode).toBe(404);
    expect(notYet.json()).toMatchObject({ error: 'NOT_FOUND', message: expect.stringMatching(/is queued/) });
    const id = await doneJob({ kind: 'capture', params: { planes } });
    expect((await app.inject({ url: `/api/stacks/${id}/mesh.obj` })).statusCode).toBe(400);
    const bad = await app.inject({ url: `/api/stacks/${id}/mesh.stl?targetTriangles=1` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/targetTriangles/);
  });

  it('reports a job folder it cannot mesh with the code and message of the failure', async () => {
    await startApp();
    const id = await doneJob({ kind: 'capture', params: { planes } });
    await rm(join(store.jobDir(id), 'confidence.png'));
    const response = await app.inject({ url: `/api/stacks/${id}/mesh.glb` });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      error: 'INPUT_UNREADABLE',
      message: expect.stringMatching(/confidence\.png: no such file/),
    });
  });

  it('leaves the other result routes as they were, and answers concurrent requests with one file', async () => {
    await startApp();
    const id = await doneJob({ kind: 'capture', params: { planes } });
    expect((await app.inject({ url: `/api/stacks/${id}/depth.png` })).statusCode).toBe(200);
    const [a, b] = await Promise.all([
      app.inject({ url: `/api/stacks/${id}/mesh.ply` }),
      app.inject({ url: `/api/stacks/${id}/mesh.ply` }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.rawPayload.equals(b.rawPayload)).toBe(true);
  });
});
