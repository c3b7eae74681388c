// 3D models of a finished stack: GET /api/stacks/:id/mesh.(stl|ply|glb). Built from the job's depth
// map on the first request for a set of parameters, then kept in the job folder and sent from there.
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import { StackscopeError } from '../../errors.js';
import { MAX_TARGET_TRIANGLES, umPerFrameFromPlanes, type MeshCalibration } from '../../mesh/calibration.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../mesh/config-schema.js';
import { MESH_FORMATS, type MeshFormat } from '../../mesh/encode.js';
import type { MeshWriteOptions } from '../../mesh/mesh-files.js';
import { writeMeshFromJobInWorker } from '../../mesh/mesh-thread.js';
import type { JobStore } from '../../store/job-store.js';
import { JOB_ID_PATTERN, type Manifest } from '../../store/manifest.js';
import type { AppContext } from '../context.js';
import { sendJobFile } from '../files.js';

const params = z.object({
  id: z.string().regex(JOB_ID_PATTERN, 'a job id like 20261128-031500-ab12'),
  format: z.enum(MESH_FORMATS),
});

const query = z.object({
  targetTriangles: z.coerce
    .number()
    .int()
    .min(2)
    .max(MAX_TARGET_TRIANGLES)
    .optional()
    .describe('Most triangles of the surface; default mesh.targetTriangles'),
  zScale: z.coerce
    .number()
    .positive()
    .max(1000)
    .optional()
    .describe('Height exaggeration; default mesh.zScale'),
  scale: z.coerce
    .number()
    .positive()
    .max(100_000)
    .optional()
    .describe('Model units per real unit: STL in mm (default mesh.stlScale), PLY mm and GLB m (default 1)'),
});

const CONTENT_TYPES: Record<MeshFormat, string> = {
  stl: 'model/stl',
  ply: 'application/x-ply',
  glb: 'model/gltf-binary',
};

/** Where a job's µm per frame comes from, so a wrong-looking model can be explained. */
type FrameSource = 'planes' | 'source-job' | 'default';

/** The `mesh` configuration section (until config/index.ts carries it, its defaults). */
export function meshConfigOf(config: Config): MeshConfig {
  return (config as Config & { mesh?: MeshConfig }).mesh ?? DEFAULT_MESH_CONFIG;
}

/**
 * µm per frame of a job: its planes' mean spacing; for a restack, the source job's; otherwise (an
 * upload, a source since deleted) the configured default.
 */
export async function umPerFrameOf(
  store: JobStore,
  job: Manifest,
  fallback: number,
): Promise<{ umPerFrame: number; source: FrameSource }> {
  const own = umPerFrameFromPlanes(job.params.planes);
  if (own !== null) return { umPerFrame: own, source: 'planes' };
  if (job.sourceJobId) {
    const source = await store.get(job.sourceJobId).catch(() => null);
    const theirs = source ? umPerFrameFromPlanes(source.params.planes) : null;
    if (theirs !== null) return { umPerFrame: theirs, source: 'source-job' };
  }
  return { umPerFrame: fallback, source: 'default' };
}

/** A cache name that changes whenever anything shaping the mesh does (query, calibration, config). */
function cacheName(format: MeshFormat, options: MeshWriteOptions, calibration: MeshCalibration): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ options, calibration }))
    .digest('hex')
    .slice(0, 10);
  const t = options.targetTriangles ?? 0;
  return `mesh-t${t}-z${calibration.zScale ?? 1}-s${options.scale ?? 'd'}-${digest}.${format}`;
}

export const meshRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { store } = ctx;
  // One build per file at a time: a second request for the same mesh waits for the first.
  const building = new Map<string, Promise<unknown>>();

  api.get(
    '/api/stacks/:id/mesh.:format',
    {
      schema: {
        summary: '3D model of the depth map: STL (printable solid), PLY (vertex colours), GLB (textured)',
        params,
        querystring: query,
      },
    },
    async (request, reply) => {
      const { id, format } = request.params;
      const job = await store.get(id);
      if (job.status !== 'done')
        throw new StackscopeError(
          'NOT_FOUND',
          `job ${id} is ${job.status}: it has no depth map to mesh (yet)`,
        );
      const config = meshConfigOf(ctx.config);
      const { umPerFrame, source } = await umPerFrameOf(store, job, config.umPerFrame);
      const calibration: MeshCalibration = {
        umPerPixel: config.umPerPixel,
        umPerFrame,
        zScale: request.query.zScale ?? config.zScale,
      };
      const options: MeshWriteOptions = {
        targetTriangles: request.query.targetTriangles ?? config.targetTriangles,
        scale: request.query.scale ?? (format === 'stl' ? config.stlScale : undefined),
        baseMm: config.baseMm,
        minConfidence: config.minConfidence,
        removeBackground: config.removeBackground,
      };
      // resultPath checks the name stays a plain file of this job's folder.
      const path = store.resultPath(id, cacheName(format, options, calibration));
      const name = basename(path);
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      if (!exists) {
        let pending = building.get(path);
        if (!pending) {
          // On a worker thread: the build takes seconds for a 12 MP stack, and this event loop
          // drives the rig meanwhile.
          pending = writeMeshFromJobInWorker({
            jobDir: store.jobDir(id),
            format,
            calibration,
            options: { ...options, name },
          }).finally(() => building.delete(path));
          building.set(path, pending);
        }
        await pending;
      }
      const facts = `umPerPixel=${calibration.umPerPixel}; umPerFrame=${umPerFrame}; umPerFrameFrom=${source}; zScale=${calibration.zScale}`;
      reply
        .header('x-stackscope-calibration', facts)
        .header('content-disposition', `attachment; filename="stack-${id}.${format}"`);
      return sendJobFile(reply, store.jobDir(id), name).type(CONTENT_TYPES[format]);
    },
  );
};
