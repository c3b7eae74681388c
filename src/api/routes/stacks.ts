// The stacks resource: start a capture-and-stack, list and read jobs, download results and frames
// (with ETag and Range via @fastify/static), restack kept frames, cancel or delete a job.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StackscopeError } from '../../errors.js';
import { captureRequestSchema, restackRequestSchema } from '../../jobs/requests.js';
import { PREVIEW_FILE, RESULT_FILES } from '../../jobs/runners.js';
import { isFinished, JOB_ID_PATTERN, type Manifest } from '../../store/manifest.js';
import type { JobStore } from '../../store/job-store.js';
import type { AppContext } from '../context.js';
import { sendJobFile } from '../files.js';

const idParams = z.object({ id: z.string().regex(JOB_ID_PATTERN, 'a job id like 20261128-031500-ab12') });
const accepted = z.object({ id: z.string(), status: z.string() });
// The manifest is the job's public record; its inner shapes are documented in docs/api.md.
const manifest = z.looseObject({ id: z.string(), status: z.string() });

/** Routes whose body may be left out (fastify passes a missing body on as null; the schema is nullish). */
export const OPTIONAL_BODIES: readonly { path: string; method: 'post' }[] = [
  { path: '/api/stacks/{id}/restack', method: 'post' },
];

function summary(m: Manifest) {
  const { frames, ...rest } = m;
  return { ...rest, frameCount: frames.length };
}

export const stackRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { jobs: manager, store } = ctx;

  api.post(
    '/api/stacks',
    {
      schema: {
        summary:
          'Capture and stack: planes from start to end by step, or N frames around the current position',
        body: captureRequestSchema,
        response: { 202: accepted },
      },
    },
    async (request, reply) => {
      const job = await manager.submitCapture(request.body);
      return reply.status(202).send({ id: job.id, status: job.status });
    },
  );

  api.get(
    '/api/stacks',
    {
      schema: {
        summary: 'Jobs, newest first',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          before: z.string().regex(JOB_ID_PATTERN).optional(),
        }),
        response: { 200: z.object({ jobs: z.array(manifest), next: z.string().optional() }) },
      },
    },
    async (request) => {
      const page = await store.list(request.query);
      return { jobs: page.jobs.map(summary), next: page.next };
    },
  );

  api.get(
    '/api/stacks/:id',
    { schema: { summary: 'One job', params: idParams, response: { 200: manifest } } },
    async (request) => store.get(request.params.id),
  );

  // Results: stored as written by the job; other formats of the result image are made on request.
  api.get(
    '/api/stacks/:id/:file',
    {
      schema: {
        summary:
          'A result: result.jpg|png|tif, depth.png, depth-preview.png, confidence.png; preview.jpg while it runs',
        params: idParams.extend({
          file: z.enum([
            'result.jpg',
            'result.png',
            'result.tif',
            'depth.png',
            'depth-preview.png',
            'confidence.png',
            'preview.jpg',
          ]),
        }),
      },
    },
    async (request, reply) => {
      const { id, file } = request.params;
      const job = await store.get(id);
      // The running preview exists from the first merged frame on; it stays after the job as is.
      if (file === PREVIEW_FILE) {
        if (!(await exists(store.resultPath(id, PREVIEW_FILE))))
          throw new StackscopeError(
            'NOT_FOUND',
            `job ${id} has no running preview (yet; depthmap jobs only)`,
          );
        return reply
          .header('cache-control', 'no-store')
          .sendFile(PREVIEW_FILE, store.jobDir(id), { cacheControl: false });
      }
      if (job.status !== 'done')
        throw new StackscopeError('NOT_FOUND', `job ${id} is ${job.status}: its results are not there (yet)`);
      if (file === 'result.png' || file === 'result.tif') await ensureConverted(store, id, file);
      return sendJobFile(reply, store.jobDir(id), file === 'result.jpg' ? RESULT_FILES.image : file);
    },
  );

  api.get(
    '/api/stacks/:id/frames',
    {
      schema: {
        summary: 'The frames of a job, with stage position, exposure and alignment',
        params: idParams,
        response: {
          200: z.object({
            frames: z.array(z.looseObject({ index: z.number(), file: z.string() })),
            deleted: z.boolean(),
          }),
        },
      },
    },
    async (request) => {
      const job = await store.get(request.params.id);
      return { frames: job.frames, deleted: job.framesDeleted ?? false };
    },
  );

  api.get(
    '/api/stacks/:id/frames/:n',
    {
      schema: {
        summary: 'One frame file',
        params: idParams.extend({ n: z.coerce.number().int().min(0).max(99_999) }),
      },
    },
    async (request, reply) => {
      const { id, n } = request.params;
      const job = await store.get(id);
      const frame = job.frames.find((f) => f.index === n);
      if (!frame || job.framesDeleted)
        throw new StackscopeError(
          'NOT_FOUND',
          job.framesDeleted ? `job ${id}'s frames were removed by retention` : `job ${id} has no frame ${n}`,
        );
      return sendJobFile(reply, store.framesDir(id), frame.file);
    },
  );

  api.post(
    '/api/stacks/:id/restack',
    {
      schema: {
        summary: 'Stack the kept frames again with other settings (a new job)',
        params: idParams,
        // A bare POST (no body: fastify passes null) restacks with the configured settings.
        body: restackRequestSchema.nullish(),
        response: { 202: accepted },
      },
    },
    async (request, reply) => {
      const job = await manager.submitRestack(request.params.id, request.body ?? {});
      return reply.status(202).send({ id: job.id, status: job.status });
    },
  );

  api.delete(
    '/api/stacks/:id',
    { schema: { summary: 'Cancel a queued or running job, or delete a finished one', params: idParams } },
    async (request, reply) => {
      const { id } = request.params;
      const job = await store.get(id);
      if (!isFinished(job.status)) {
        const cancelled = await manager.cancel(id);
        return reply.status(200).send({ id, status: cancelled.status });
      }
      await store.delete(id);
      return reply.status(204).send();
    },
  );
};

async function exists(path: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(path).then(
    () => true,
    () => false,
  );
}

async function ensureConverted(
  store: JobStore,
  id: string,
  file: 'result.png' | 'result.tif',
): Promise<void> {
  const { access } = await import('node:fs/promises');
  const target = store.resultPath(id, file);
  try {
    await access(target);
    return;
  } catch {
    // Not made yet.
  }
  const { default: sharp } = await import('sharp');
  const { writeFileAtomic } = await import('../../stack/io.js');
  const source = sharp(store.resultPath(id, RESULT_FILES.image));
  const data = await (file === 'result.png' ? source.png() : source.tiff({ compression: 'lzw' })).toBuffer();
  await writeFileAtomic(target, data);
}
