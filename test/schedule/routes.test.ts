import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/api/errors.js';
import { scheduleRoutes } from '../../src/api/routes/schedules.js';
import { timelapseSettingsSchema } from '../../src/schedule/schema.js';
import { ScheduleStore } from '../../src/schedule/store.js';
import { TimelapseBuilder } from '../../src/schedule/timelapse.js';
import { harness, type Harness } from './fakes.js';

let h: Harness;
let app: FastifyInstance;
let film: TimelapseBuilder;

beforeEach(async () => {
  h = await harness();
  const outputs = new ScheduleStore({ dataDir: h.dir });
  film = new TimelapseBuilder({
    outputDir: (id) => outputs.outputDir(id),
    resultPath: (jobId, name) => join(h.dir, 'jobs', jobId, name),
    ffmpeg: 'stackscope-no-such-ffmpeg',
  });
  const scheduler = h.make({ timelapse: film });
  await scheduler.start();
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  await app.register(fastifyStatic, { root: h.dir, serve: false });
  await app.register(scheduleRoutes, {
    scheduler,
    timelapse: film,
    outputDir: (id) => outputs.outputDir(id),
  });
});

afterEach(async () => {
  await app.close();
  await h.cleanup();
});

const body = {
  id: 'crystal',
  name: 'drying crystal',
  cron: '*/20 * * * *',
  timezone: 'Europe/Berlin',
  stack: { start: 900, end: 1000, step: 10 },
};

describe('/api/schedules', () => {
  it('creates, lists, shows with next runs, pauses and deletes', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/schedules', payload: body });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'crystal', status: 'active', runs: 0, busyPolicy: 'wait' });
    const next: string[] = created.json().nextRuns;
    expect(next).toHaveLength(5);
    expect(Date.parse(next[1]) - Date.parse(next[0])).toBe(20 * 60_000);

    const list = await app.inject({ method: 'GET', url: '/api/schedules' });
    expect(list.json().schedules.map((s: { id: string }) => s.id)).toEqual(['crystal']);

    const paused = await app.inject({
      method: 'PATCH',
      url: '/api/schedules/crystal',
      payload: { paused: true },
    });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused', nextRuns: [], cron: '*/20 * * * *' });

    const shown = await app.inject({ method: 'GET', url: '/api/schedules/crystal' });
    expect(shown.json()).toMatchObject({ id: 'crystal', status: 'paused' });

    const deleted = await app.inject({ method: 'DELETE', url: '/api/schedules/crystal' });
    expect(deleted.statusCode).toBe(204);
    const gone = await app.inject({ method: 'GET', url: '/api/schedules/crystal' });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'NOT_FOUND', message: 'no schedule with id "crystal"' });
    await expect(access(join(h.dir, 'schedules', 'crystal.json'))).rejects.toThrow();
  });

  it('refuses a bad cron, a bad time zone, a taken id and a malformed id, naming the field', async () => {
    const badCron = await app.inject({
      method: 'POST',
      url: '/api/schedules',
      payload: { ...body, cron: 'every day' },
    });
    expect(badCron.statusCode).toBe(400);
    expect(badCron.json().error).toBe('BAD_ARGUMENT');
    expect(badCron.json().message).toMatch(/cron: "every day" is not a 5-field cron expression/);

    await app.inject({ method: 'POST', url: '/api/schedules', payload: body });
    const taken = await app.inject({ method: 'POST', url: '/api/schedules', payload: body });
    expect(taken.json()).toEqual({
      error: 'BAD_ARGUMENT',
      message: 'schedule crystal exists: choose another id, or PATCH it',
    });

    const badZone = await app.inject({
      method: 'PATCH',
      url: '/api/schedules/crystal',
      payload: { timezone: 'Europe/Atlantis' },
    });
    expect(badZone.statusCode).toBe(400);
    expect(badZone.json().message).toBe(
      'schedule crystal: timezone: "Europe/Atlantis" is not an IANA time zone (e.g. Europe/Berlin, UTC)',
    );

    const malformed = await app.inject({ method: 'GET', url: '/api/schedules/..%2Fjobs' });
    expect(malformed.statusCode).toBe(400);
  });

  it('serves the film once a run has finished, and the series with links to each run’s results', async () => {
    await app.inject({ method: 'POST', url: '/api/schedules', payload: body });
    const early = await app.inject({ method: 'GET', url: '/api/schedules/crystal/timelapse.webp' });
    expect(early.statusCode).toBe(404);
    expect(early.json().message).toBe('schedule crystal has no timelapse.webp: no run has finished yet');

    for (const [run, shade] of [
      [1, 60],
      [2, 120],
    ]) {
      const jobDir = join(h.dir, 'jobs', `job-${run}`);
      await mkdir(jobDir, { recursive: true });
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade, g: 80, b: 40 } } })
        .jpeg()
        .toFile(join(jobDir, 'result.jpg'));
      await film.addRun('crystal', timelapseSettingsSchema.parse({ align: 'none' }), {
        run,
        jobId: `job-${run}`,
      });
    }
    const webp = await app.inject({ method: 'GET', url: '/api/schedules/crystal/timelapse.webp' });
    expect(webp.statusCode).toBe(200);
    expect(webp.headers['content-type']).toBe('image/webp');
    expect((await sharp(webp.rawPayload, { animated: true }).metadata()).pages).toBe(2);

    const series = await app.inject({ method: 'GET', url: '/api/schedules/crystal/series' });
    expect(series.json()).toMatchObject({
      width: 64,
      height: 48,
      entries: [
        {
          run: 1,
          jobId: 'job-1',
          result: '/api/stacks/job-1/result.jpg',
          depthPreview: '/api/stacks/job-1/depth-preview.png',
        },
        { run: 2, jobId: 'job-2', result: '/api/stacks/job-2/result.jpg' },
      ],
    });

    const mp4 = await app.inject({ method: 'GET', url: '/api/schedules/crystal/timelapse.mp4' });
    expect(mp4.statusCode).toBe(404);
    expect(mp4.json().message).toBe(
      'schedule crystal has no timelapse.mp4: stackscope-no-such-ffmpeg is not installed (not on PATH)',
    );
  });
});
