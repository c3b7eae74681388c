// GET /api/events: server-sent events (job progress, stage moves, button presses) for the web page,
// with a heartbeat so proxies and idle Wi-Fi links keep the stream open.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';

const HEARTBEAT_MS = 15_000;

export const eventRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  app.get(
    '/api/events',
    { schema: { summary: 'Server-sent events: job, stage and button' } },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const unsubscribe = ctx.bus.subscribe((event) => {
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      request.raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );
};
