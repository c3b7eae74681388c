// POST /api/stacks/upload: frames from a laptop (multipart, one file part per frame, in name order;
// optional fields method, measure, align) become an offline stack job. Each part is streamed to the
// job's frames/ and checked to be an image before the job is queued; a bad part fails the request, not the daemon.
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync } from 'fastify';
import { BadArgumentError, InputError, StackscopeError } from '../../errors.js';
import { stackSettingsSchema } from '../../jobs/requests.js';
import { MAX_FRAMES } from '../../stack/stacker.js';
import { sniffImageFormat } from '../../stack/io.js';
import type { AppContext } from '../context.js';

/** A 12 MP PNG frame is ~36 MB; 16-bit TIFFs are larger still. */
const MAX_FRAME_BYTES = 100 * 1024 * 1024;
const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', tiff: 'tif', webp: 'webp' };
const naturalOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

export const uploadRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  await app.register((await import('@fastify/multipart')).default, {
    limits: {
      fileSize: MAX_FRAME_BYTES,
      files: MAX_FRAMES,
      fields: 10,
      fieldSize: 1024,
      parts: MAX_FRAMES + 10,
    },
    throwFileSizeLimit: true,
  });
  app.post(
    '/api/stacks/upload',
    {
      schema: {
        summary:
          'Stack uploaded frames (multipart/form-data: files, and optional method, measure, align fields)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      if (!request.isMultipart())
        throw new StackscopeError('UNSUPPORTED_MEDIA_TYPE', 'upload: send the frames as multipart/form-data');
      const { store, jobs } = ctx;
      const job = await store.create({ kind: 'upload', label: 'upload' });
      const received: { name: string; path: string }[] = [];
      const fields: Record<string, string> = {};
      try {
        let index = 0;
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            fields[part.fieldname] = String(part.value);
            continue;
          }
          const name = part.filename || `part ${index + 1}`;
          const staging = store.framePath(job.id, index, 'part');
          await pipeline(part.file, createWriteStream(staging));
          // At the size limit the part just ends (the error only comes with the next part): a cut-off
          // frame must be refused as too large, not judged as an image.
          if (part.file.truncated) throw frameTooLarge();
          const format = await sniffImageFormat(staging);
          const extension = format ? EXTENSIONS[format] : undefined;
          if (!extension)
            throw new InputError(
              'INPUT_UNREADABLE',
              name,
              `not a JPEG, PNG, TIFF or WebP image${format ? ` (${format})` : ''}`,
            );
          const path = store.framePath(job.id, index, extension);
          await rename(staging, path);
          received.push({ name, path });
          index++;
        }
        if (received.length < 2)
          throw new BadArgumentError(`upload: a stack needs 2 or more frames, got ${received.length}`);
        const settings = stackSettingsSchema.safeParse({
          method: fields.method,
          measure: fields.measure,
          align: fields.align,
        });
        if (!settings.success) {
          const issue = settings.error.issues[0];
          throw new BadArgumentError(`upload field ${issue.path.join('.')}: ${issue.message}`);
        }
        // Frames are stacked in the order of their names (frame_2 before frame_10), as the CLI does.
        received.sort((a, b) => naturalOrder(a.name, b.name));
        for (const [i, r] of received.entries()) {
          await store.addFrame(job.id, { index: i, file: basename(r.path) });
        }
        const updated = await store.update(job.id, (m) => {
          m.params = { stack: settings.data, files: received.map((r) => r.name) };
          m.progress = { captured: received.length, stacked: 0, total: received.length };
        });
        jobs.submitUploaded(
          updated,
          received.map((r) => r.path),
          settings.data,
        );
        return reply.status(202).send({ id: job.id, status: updated.status });
      } catch (error) {
        // Nothing half-uploaded stays behind: the job never existed for the user.
        await store.delete(job.id).catch(() => {});
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw frameTooLarge();
        if (
          (error as { code?: string }).code === 'FST_FILES_LIMIT' ||
          (error as { code?: string }).code === 'FST_PARTS_LIMIT'
        )
          throw new StackscopeError('TOO_LARGE', `upload: at most ${MAX_FRAMES} frames`);
        if (isMalformedMultipart(error))
          throw new BadArgumentError(`upload: the multipart body is malformed: ${(error as Error).message}`);
        throw error;
      }
    },
  );
};

function frameTooLarge(): StackscopeError {
  return new StackscopeError(
    'TOO_LARGE',
    `upload: a frame is larger than ${MAX_FRAME_BYTES / 1024 / 1024} MB`,
  );
}

/**
 * busboy reports a body cut off before its closing boundary, or a broken part header, as a plain Error
 * (no code, no status): the client's fault, not the server's. Disk errors carry a code and stay 5xx.
 */
function isMalformedMultipart(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StackscopeError) return false;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  return (
    code === undefined &&
    statusCode === undefined &&
    /multipart data|Malformed part header|Boundary not found/.test(error.message)
  );
}
