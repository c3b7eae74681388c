// Sends a file of a job folder with the right content type, ETag and Range support (@fastify/static's
// sendFile); the name was already checked by the store, and the root pins it inside the job.
import type { FastifyReply } from 'fastify';

export function sendJobFile(reply: FastifyReply, root: string, name: string): FastifyReply {
  // Results of a job never change once written: browsers may keep them. (cacheControl: false stops
  // @fastify/static from replacing this header with its own.)
  return reply.header('cache-control', 'private, max-age=3600').sendFile(name, root, { cacheControl: false });
}
