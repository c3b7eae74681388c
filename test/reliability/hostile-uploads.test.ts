// Uploads meant to hurt: a decompression bomb (a few bytes of PNG claiming 10 gigapixels), a frame over
// the size limit, too many parts, and a body cut off before its closing boundary. Each is refused or
// fails its own job; none leaves a job behind that the user did not get, and the daemon stays healthy.
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody, waitForJob } from '../helpers/daemon.js';
import { startFullApp, type FullApp } from './full-app.js';

let t: FullApp;
const BOUNDARY = 'hostile-upload-boundary';
const TYPE = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A whole, valid-looking PNG header claiming `width`×`height` grey pixels, with one row of data. */
function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit grey, deflate, no filter method quirks, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(width + 1))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function part(name: string, data: Buffer | string, filename?: string): Buffer {
  const disposition = `form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`;
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: ${disposition}\r\n\r\n`),
    Buffer.isBuffer(data) ? data : Buffer.from(data),
    Buffer.from('\r\n'),
  ]);
}

const END = Buffer.from(`--${BOUNDARY}--\r\n`);

async function jobIds(): Promise<string[]> {
  return (await t.store.list({ limit: 500 })).jobs.map((j) => j.id);
}

beforeAll(async () => {
  t = await startFullApp();
});

afterAll(async () => {
  await t?.close();
});

describe('hostile uploads', () => {
  it('fails the job of a decompression bomb on the pixel limit, without decoding it', async () => {
    const bomb = pngBomb(100_000, 100_000);
    expect(bomb.length).toBeLessThan(1024);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks/upload',
      headers: TYPE,
      payload: Buffer.concat([part('f', bomb, 'a.png'), part('f', bomb, 'b.png'), END]),
    });
    expect(response.statusCode).toBe(202);
    const rssBefore = process.memoryUsage().rss;
    const job = await waitForJob(t, response.json<{ id: string }>().id, ['done', 'failed']);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringContaining('pixel limit'),
    });
    // Decoding 10 gigapixels would take 10 GB; refusing on the header takes next to nothing.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it.each([
    ['an image', pngBomb(2, 2).subarray(0, 33)],
    ['not an image', Buffer.from('AAAA')],
  ])('refuses a frame over the size limit (%s) with 413, keeping nothing of it', async (_, head) => {
    const before = await jobIds();
    const megabyte = Buffer.alloc(1024 * 1024, 0x41);
    async function* body() {
      yield Buffer.from(
        `--${BOUNDARY}\r\ncontent-disposition: form-data; name="f"; filename="huge.png"\r\n\r\n`,
      );
      yield head;
      for (let i = 0; i < 101; i++) yield megabyte;
      yield Buffer.from('\r\n');
      yield END;
    }
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks/upload',
      headers: TYPE,
      payload: Readable.from(body()),
    });
    expect(response.statusCode).toBe(413);
    expect(errorBody(response)).toMatchObject({
      error: 'TOO_LARGE',
      message: expect.stringContaining('100 MB'),
    });
    expect(await jobIds()).toEqual(before);
  });

  it('refuses more parts than a stack may have, and too many fields', async () => {
    const before = await jobIds();
    const tiny = pngBomb(2, 2);
    const manyFiles = Array.from({ length: 256 }, (_, i) => part('f', tiny, `f${i}.png`));
    const files = await t.app.inject({
      method: 'POST',
      url: '/api/stacks/upload',
      headers: TYPE,
      payload: Buffer.concat([...manyFiles, END]),
    });
    expect(files.statusCode).toBe(413);
    expect(errorBody(files).error).toBe('TOO_LARGE');
    const manyFields = Array.from({ length: 11 }, (_, i) => part(`field${i}`, 'x'));
    const fields = await t.app.inject({
      method: 'POST',
      url: '/api/stacks/upload',
      headers: TYPE,
      payload: Buffer.concat([...manyFields, END]),
    });
    expect(fields.statusCode).toBe(413);
    expect(errorBody(fields).error).toBe('TOO_LARGE');
    expect(await jobIds()).toEqual(before);
  });

  it('answers a body cut off before its closing boundary 400, not 500 (a bug the fuzz found)', async () => {
    const before = await jobIds();
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/stacks/upload',
      headers: TYPE,
      payload: part('f', pngBomb(2, 2), 'a.png'),
    });
    expect(response.statusCode).toBe(400);
    expect(errorBody(response)).toMatchObject({
      error: 'BAD_ARGUMENT',
      message: expect.stringContaining('multipart'),
    });
    expect(await jobIds()).toEqual(before);
  });

  it('is healthy afterwards', async () => {
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });
});
