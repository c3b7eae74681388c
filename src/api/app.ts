// Builds the fastify app (not listening: daemon.ts does that; tests use inject()). One plugin per
// resource, zod schemas for validation, types and the OpenAPI document at /docs.
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { installAuth, redactUrl } from './auth.js';
import type { AppContext } from './context.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { cameraRoutes } from './routes/camera.js';
import { eventRoutes } from './routes/events.js';
import { meshRoutes } from './routes/mesh.js';
import { scheduleRoutes } from './routes/schedules.js';
import { OPTIONAL_BODIES, stackRoutes } from './routes/stacks.js';
import { stageRoutes } from './routes/stage.js';
import { uiRoutes } from './routes/ui.js';
import { uploadRoutes } from './routes/upload.js';

export interface BuildAppOptions {
  /** JSON bodies above this are refused (413); uploads have their own limit. */
  bodyLimitBytes?: number;
  /** Requests per minute per client address. */
  rateLimitPerMinute?: number;
  /** The compiled web page; default dist/ui (npm run build). Tests pass a page compiled from src/ui. */
  uiDir?: string;
}

const MAX_PARAM_LENGTH = 200;

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: withoutSecrets(ctx.logger) as FastifyBaseLogger | undefined,
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    // Ids and file names in URLs are checked by the routes; this only stops absurd URLs early.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Bad %-escapes and over-long path segments never reach a route or the error handler: without
    // this, fastify answers them in its own shape instead of the API's { error, message }.
    frameworkErrors: answerBadUrl,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installAuth(app, ctx.config.server);
  await app.register(fastifyRateLimit, {
    max: options.rateLimitPerMinute ?? 600,
    timeWindow: '1 minute',
    // The status poll and the event stream must never lock a user's own page out.
    allowList: (request) => request.url === '/api/status' || request.url === '/api/events',
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'stackscope', description: 'Focus-stacking microscope daemon', version: ctx.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    // @fastify/swagger marks every request body required; some routes work without one.
    transformObject: (documents) => {
      if (!('openapiObject' in documents)) return documents.swaggerObject;
      const paths = (documents.openapiObject.paths ?? {}) as Record<
        string,
        Record<string, { requestBody?: { required?: boolean } }>
      >;
      for (const { path, method } of OPTIONAL_BODIES) {
        const body = paths[path]?.[method]?.requestBody;
        if (body) body.required = false;
      }
      return documents.openapiObject;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // sendFile only (no route of its own): files are served by the stacks routes, roots pinned per job.
  await app.register(fastifyStatic, { root: ctx.store.jobsDir, serve: false });
  await app.register(healthRoutes, ctx);
  await app.register(stageRoutes, ctx);
  await app.register(stackRoutes, ctx);
  await app.register(uploadRoutes, ctx);
  await app.register(eventRoutes, ctx);
  await app.register(meshRoutes, ctx);
  await app.register(cameraRoutes, ctx);
  if (ctx.schedules) await app.register(scheduleRoutes, ctx.schedules);
  await app.register(uiRoutes, options.uiDir ? { uiDir: options.uiDir } : {});
  return app;
}

/**
 * The request log never carries the token: fastify logs each request's URL, so a `?token=` of the
 * event stream is replaced there, and an authorization header is censored wherever it is logged.
 */
function withoutSecrets(logger: Logger | undefined): Logger | undefined {
  return logger?.child(
    {},
    {
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization'],
        censor: '[redacted]',
      },
    },
  );
}

function answerBadUrl(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  const body =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { error: 'BAD_ARGUMENT', message: `a URL path segment is longer than ${MAX_PARAM_LENGTH} characters` }
      : error.code === 'FST_ERR_BAD_URL'
        ? { error: 'BAD_ARGUMENT', message: 'the URL is not valid: it has a malformed %-escape' }
        : { error: 'INTERNAL', message: 'internal error; the server log has the details' };
  void reply.status(status).send(body);
}
