// The schedules resource: timelapse schedules created, listed, paused, edited and deleted; each with
// its next run times, its series of stacked runs and its film (animated WebP, MP4 when ffmpeg made one).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StackscopeError } from '../../errors.js';
import { SCHEDULE_ID_PATTERN, scheduleCreateSchema, schedulePatchSchema } from '../../schedule/schema.js';
import type { Scheduler } from '../../schedule/scheduler.js';
import { TIMELAPSE_FILES, type TimelapseBuilder } from '../../schedule/timelapse.js';

/**
 * The routes take the scheduler and the film builder as plugin options rather than from AppContext:
 * they need nothing else, and the app can register them only when the daemon runs a scheduler.
 */
export interface ScheduleRoutesOptions {
  scheduler: Pick<Scheduler, 'list' | 'get' | 'create' | 'update' | 'delete'>;
  timelapse: Pick<TimelapseBuilder, 'series'>;
  /** A schedule's output folder (ScheduleStore.outputDir). */
  outputDir: (id: string) => string;
}

const idParams = z.object({ id: z.string().regex(SCHEDULE_ID_PATTERN, 'a schedule id like mould-3f2a') });
// A schedule as stored plus status, nextRuns, runs, lastRun and state; shapes in docs/timelapse.md.
const scheduleView = z.looseObject({
  id: z.string(),
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  status: z.enum(['active', 'paused', 'finished']),
  nextRuns: z.array(z.string()),
  runs: z.number(),
});
const seriesEntry = z.looseObject({
  run: z.number(),
  jobId: z.string(),
  result: z.string(),
  depthPreview: z.string(),
  frame: z.string(),
});

export const scheduleRoutes: FastifyPluginAsync<ScheduleRoutesOptions> = async (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { scheduler, timelapse, outputDir } = options;

  api.get(
    '/api/schedules',
    {
      schema: {
        summary: 'Timelapse schedules, oldest first, with their next run times',
        response: { 200: z.object({ schedules: z.array(scheduleView) }) },
      },
    },
    async () => ({ schedules: scheduler.list() }),
  );

  api.post(
    '/api/schedules',
    {
      schema: {
        summary: 'Create a schedule: cron (5 fields) in a time zone, and the stack each run captures',
        body: scheduleCreateSchema,
        response: { 201: scheduleView },
      },
    },
    async (request, reply) => reply.status(201).send(await scheduler.create(request.body)),
  );

  api.get(
    '/api/schedules/:id',
    {
      schema: {
        summary: 'One schedule, with its next run times',
        params: idParams,
        response: { 200: scheduleView },
      },
    },
    async (request) => scheduler.get(request.params.id),
  );

  api.patch(
    '/api/schedules/:id',
    {
      schema: {
        summary: 'Pause or resume ({ "paused": true }), or change any field; the series goes on from now',
        params: idParams,
        body: schedulePatchSchema,
        response: { 200: scheduleView },
      },
    },
    async (request) => scheduler.update(request.params.id, request.body),
  );

  api.delete(
    '/api/schedules/:id',
    {
      schema: {
        summary:
          'Delete a schedule and its film (its jobs stay); refused for one declared in the config file',
        params: idParams,
      },
    },
    async (request, reply) => {
      await scheduler.delete(request.params.id);
      return reply.status(204).send();
    },
  );

  api.get(
    '/api/schedules/:id/series',
    {
      schema: {
        summary: 'The stacked runs of the film, in order, with their results and registration',
        params: idParams,
        response: { 200: z.object({ width: z.number(), height: z.number(), entries: z.array(seriesEntry) }) },
      },
    },
    async (request) => {
      const { id } = request.params;
      scheduler.get(id);
      const series = await timelapse.series(id);
      const entries = (series?.entries ?? []).map((e) => ({
        ...e,
        result: `/api/stacks/${e.jobId}/result.jpg`,
        depthPreview: `/api/stacks/${e.jobId}/depth-preview.png`,
      }));
      return { width: series?.width ?? 0, height: series?.height ?? 0, entries };
    },
  );

  api.get(
    '/api/schedules/:id/:file',
    {
      schema: {
        summary: 'The film: timelapse.webp (animated), timelapse.mp4 (only when ffmpeg is installed)',
        params: idParams.extend({ file: z.enum([TIMELAPSE_FILES.webp, TIMELAPSE_FILES.mp4]) }),
      },
    },
    async (request, reply) => {
      const { id, file } = request.params;
      scheduler.get(id);
      const dir = outputDir(id);
      try {
        await access(join(dir, file));
      } catch {
        const why =
          file === TIMELAPSE_FILES.mp4
            ? ((await timelapse.series(id))?.mp4?.reason ?? 'no run has finished yet')
            : 'no run has finished yet';
        throw new StackscopeError('NOT_FOUND', `schedule ${id} has no ${file}: ${why}`);
      }
      // The film grows with every run: revalidate (ETag) rather than cache.
      return reply.header('cache-control', 'no-cache').sendFile(file, dir, { cacheControl: false });
    },
  );
};
