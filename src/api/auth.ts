// Bearer-token check when the server listens beyond loopback and a token is configured: changing
// requests (POST, PATCH, DELETE) always; with server.protectReads, every /api/ read too.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StackscopeError } from '../errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** EventSource cannot send headers: the event stream alone takes the token as `?token=`. */
const EVENTS_PATH = '/api/events';

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

export interface AuthSettings {
  host: string;
  token?: string;
  /** Reads of /api/ need the token too; the page itself and /docs stay open (they hold no data). */
  protectReads?: boolean;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Constant-time: the comparison must not tell a LAN neighbour how much of a guess was right. Both
 * sides are hashed first, so neither does the time tell the token's length.
 */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** The `token` parameter of a query string (first one wins), or undefined. */
function queryToken(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams(url.slice(query + 1)).get('token') ?? undefined;
}

export function installAuth(app: FastifyInstance, { host, token, protectReads = false }: AuthSettings): void {
  if (!token || isLoopback(host)) return;
  const expected = digest(`Bearer ${token}`);
  const expectedBare = digest(token);
  app.addHook('onRequest', async (request) => {
    // The matched route, not the raw URL: '/%61pi/status' reaches /api/status too. No route (404):
    // the path as sent, which serves nothing anyway.
    const path = request.routeOptions.url ?? request.url.split('?')[0];
    const read = READS.has(request.method);
    if (read && !(protectReads && path.startsWith('/api/'))) return;
    if (sameSecret(request.headers.authorization ?? '', expected)) return;
    if (read && path === EVENTS_PATH) {
      const given = queryToken(request.url);
      if (given !== undefined && sameSecret(given, expectedBare)) return;
    }
    throw new StackscopeError(
      'UNAUTHORIZED',
      `${request.method} ${request.url.split('?')[0]} needs 'Authorization: Bearer <token>'` +
        (read && path === EVENTS_PATH ? ` or ?token=<token>` : '') +
        ' (server.token in the configuration)',
    );
  });
}

/** A request URL fit for the log: the value of any `token` query parameter replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&;]token=)[^&#;]*/gi, '$1[redacted]');
}
