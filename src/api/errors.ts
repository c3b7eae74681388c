// Every failure leaves the API as `{ error: CODE, message }` with the catalogue's status: typed
// StackscopeErrors as they are, fastify's validation and parsing errors as BAD_ARGUMENT naming the field.
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { StackscopeError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: string;
  message: string;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = describeIssues(
        [],
        error.validation.map((v) => ({
          code: v.keyword,
          path: v.instancePath.split('/').filter(Boolean),
          message: v.message ?? 'invalid',
          errors: (v.params as { errors?: IssueLike[][] } | undefined)?.errors,
        })),
      );
      return reply
        .status(400)
        .send({ error: 'BAD_ARGUMENT', message: `${where}: ${details.join('; ')}` } satisfies ErrorBody);
    }
    if (error instanceof StackscopeError) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      return reply
        .status(error.status)
        .send({ error: error.code, message: error.message } satisfies ErrorBody);
    }
    // fastify's own client errors: bad JSON, body too large, unsupported media type, rate limit.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code: ErrorCode =
        status === 429
          ? 'RATE_LIMITED'
          : status === 413
            ? 'TOO_LARGE'
            : status === 415
              ? 'UNSUPPORTED_MEDIA_TYPE'
              : 'BAD_ARGUMENT';
      return reply.status(status).send({ error: code, message: error.message } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({
      error: 'INTERNAL' satisfies ErrorCode,
      message: 'internal error; the server log has the details',
    } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } satisfies ErrorBody),
  );
}

/** A zod issue as fastify-type-provider-zod passes it on (a union's keeps its branches' issues). */
interface IssueLike {
  code?: string;
  path?: PropertyKey[];
  message: string;
  errors?: IssueLike[][];
}

/**
 * `field: problem` per issue. A union (the capture request: start/end/step or frames/step) only says
 * "Invalid input"; the branch that came closest, with the fewest issues, names the fields at fault.
 */
function describeIssues(prefix: string[], issues: IssueLike[]): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...(issue.path ?? []).map(String)];
    if (issue.code === 'invalid_union' && issue.errors?.length) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      if (closest.length) return describeIssues(path, closest);
    }
    return [path.length ? `${path.join('.')}: ${issue.message}` : issue.message];
  });
}
