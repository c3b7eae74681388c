// Bearer-token check for changing requests (POST, PATCH, DELETE) when the server listens beyond
// loopback and a token is configured. Reads stay open so a classroom can watch without the token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StackscopeError } from '../errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

export function installAuth(app: FastifyInstance, { host, token }: { host: string; token?: string }): void {
  if (!token || isLoopback(host)) return;
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const given = Buffer.from(request.headers.authorization ?? '');
    // Constant-time: the comparison must not tell a LAN neighbour how much of a guess was right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new StackscopeError(
        'UNAUTHORIZED',
        `${request.method} ${request.url.split('?')[0]} needs 'Authorization: Bearer <token>' (server.token in the configuration)`,
      );
  });
}
