// GET /api/camera/preview.jpg: one frame from the camera, where the stage is, while no job runs — the
// web page's live view polls it to frame and focus a specimen. Jobs wait for a preview; a preview
// during a job is refused (RIG_BUSY).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { captureSettingsOf } from '../../rig/capture-settings.js';
import type { AppContext } from '../context.js';

const PREVIEW_FILE = 'camera-preview.jpg';
/** Small and quick: a preview is for framing and rough focus, not for keeping. */
const PREVIEW_QUALITY = 80;

export const cameraRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  const dir = join(ctx.config.dataDir, 'state');
  app.get(
    '/api/camera/preview.jpg',
    { schema: { summary: 'One camera frame while idle, for framing and focusing (409 during a job)' } },
    async (_request, reply) => {
      await mkdir(dir, { recursive: true });
      await ctx.jobs.whileIdle('take a camera preview', async () => {
        const { camera } = ctx.rig;
        await camera.open(
          captureSettingsOf(ctx.config.rig.camera, { encoding: 'jpg', quality: PREVIEW_QUALITY }),
        );
        try {
          await camera.capture(join(dir, PREVIEW_FILE));
        } finally {
          await camera.close();
        }
      });
      return reply.header('cache-control', 'no-store').sendFile(PREVIEW_FILE, dir, { cacheControl: false });
    },
  );
};
