// The stage routes: move to / by a position, home, stop. Moves are refused while a job owns the rig
// (RIG_BUSY); a target beyond the soft limits is refused by the stage itself (STAGE_LIMIT).
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';

const position = z.object({
  um: z.number(),
  steps: z.number(),
  certain: z.boolean(),
  uncertainReason: z.string().optional(),
});
const finite = z.number().refine(Number.isFinite, 'expected a finite number of µm');

export const stageRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/api/stage/move',
    {
      schema: {
        summary: 'Move the focus stage to a position or by a distance (µm)',
        body: z.union([z.object({ to: finite }).strict(), z.object({ by: finite }).strict()]),
        response: { 200: position },
      },
    },
    async (request) => {
      ctx.jobs.assertRigIdle('move the stage');
      const body = request.body;
      return 'to' in body ? ctx.rig.stage.moveTo(body.to) : ctx.rig.stage.moveBy(body.by);
    },
  );
  api.post(
    '/api/stage/home',
    { schema: { summary: 'Home the stage on its limit switch', response: { 200: position } } },
    async () => {
      ctx.jobs.assertRigIdle('home the stage');
      return ctx.rig.stage.home();
    },
  );
  api.post(
    '/api/stage/stop',
    {
      schema: {
        summary: "Stop the stage at once (also stops a running job's move)",
        response: { 200: position },
      },
    },
    async () => {
      await ctx.rig.stage.stop();
      return ctx.rig.stage.position();
    },
  );
};
