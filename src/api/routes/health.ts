// GET /api/health (is the daemon alive) and GET /api/status (rig, stage position, busy job): the
// routes a laptop polls, so they do no I/O and answer from memory.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';

const positionSchema = z.object({
  um: z.number(),
  steps: z.number(),
  certain: z.boolean(),
  uncertainReason: z.string().optional(),
});

export const healthRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  const started = Date.now();
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/api/health',
    {
      schema: {
        summary: 'Liveness',
        response: { 200: z.object({ status: z.literal('ok'), version: z.string(), uptimeS: z.number() }) },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: ctx.version,
      uptimeS: Math.round((Date.now() - started) / 1000),
    }),
  );
  api.get(
    '/api/status',
    {
      schema: {
        summary: 'Rig, stage position and the running job',
        response: {
          200: z.object({
            rig: z.object({ kind: z.enum(['pi', 'simulated']), camera: z.string(), indicator: z.string() }),
            stage: z.object({
              position: positionSchema,
              limits: z.object({ minUm: z.number(), maxUm: z.number() }),
              stepUm: z.number(),
            }),
            job: z.object({ id: z.string(), status: z.string() }).nullable(),
            queued: z.number().int(),
          }),
        },
      },
    },
    async () => {
      const { rig } = ctx;
      return {
        rig: { kind: rig.kind, camera: rig.camera.description, indicator: rig.indicator.state },
        stage: { position: rig.stage.position(), limits: rig.stage.limits, stepUm: rig.stage.stepUm },
        job: ctx.jobs.running(),
        queued: ctx.jobs.queuedCount(),
      };
    },
  );
};
