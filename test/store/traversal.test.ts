// Ids and names from the network never reach the disk unless they are well-formed: every store
// method rejects them (BAD_ARGUMENT) before any fs call, and files outside the data folder survive.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/job-store.js';
import { makeTempDir, recordingFs, removeTempDir } from './store-helpers.js';

const BAD_IDS: unknown[] = [
  '../x',
  '..',
  '.',
  'a/b',
  '..\\x',
  '%2e%2e',
  '%2e%2e%2fsecret',
  '/etc/passwd',
  '',
  'x'.repeat(10_000),
  '20261128-031500-ab12/../../secret',
  '20261128-031500-ab12\0',
  '20261128-031500-ab12\n',
  ' 20261128-031500-ab12',
  '20261128-031500-AB12',
  '20261128-031500-ab1',
  123,
  null,
  { toString: () => '20261128-031500-ab12' },
];

let root: string;
let dataDir: string;
let sentinels: string[];

beforeEach(async () => {
  root = await makeTempDir('stackscope-traversal-');
  dataDir = join(root, 'data');
  // Files a traversal would reach: beside the data folder, and beside jobs/ inside it.
  sentinels = [join(root, 'secret', 'manifest.json'), join(dataDir, 'x', 'manifest.json'), join(root, 'x')];
  for (const path of sentinels) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `sentinel ${path}`);
  }
});
afterEach(() => removeTempDir(root));

function sentinelsIntact() {
  for (const path of sentinels) expect(readFileSync(path, 'utf8')).toBe(`sentinel ${path}`);
}

describe('hostile job ids', () => {
  it('are rejected by every method with BAD_ARGUMENT and no fs call at all', async () => {
    const { fs, calls } = recordingFs();
    const store = await JobStore.open({ dataDir, fs });
    calls.length = 0;
    for (const id of BAD_IDS) {
      const bad = id as string;
      const attempts: [string, () => unknown][] = [
        ['get', () => store.get(bad)],
        ['update', () => store.update(bad, (m) => void (m.label = 'pwned'))],
        ['delete', () => store.delete(bad)],
        ['addFrame', () => store.addFrame(bad, { index: 0, file: 'frame-0000.jpg' })],
        ['framePath', () => store.framePath(bad, 0, 'jpg')],
        ['resultPath', () => store.resultPath(bad, 'result.jpg')],
        ['read', () => store.read(bad)],
        ['create', () => store.create({ kind: 'restack', sourceJobId: bad })],
      ];
      for (const [method, attempt] of attempts) {
        const outcome = await Promise.resolve()
          .then(attempt)
          .then(
            () => ({ code: 'accepted' }),
            (error: { code?: string; message: string }) => error,
          );
        expect(outcome, `${method}(${JSON.stringify(bad)?.slice(0, 40)})`).toMatchObject({
          code: 'BAD_ARGUMENT',
        });
        // The message quotes the id, cut short: a 10 kB id does not flood a log line.
        expect((outcome as Error).message.length).toBeLessThan(200);
      }
    }
    expect(calls).toEqual([]);
    sentinelsIntact();
  });

  it('as a list cursor are rejected before the folder is read', async () => {
    const { fs, calls } = recordingFs();
    const store = await JobStore.open({ dataDir, fs });
    calls.length = 0;
    for (const id of BAD_IDS.filter((b) => typeof b === 'string')) {
      await expect(store.list({ before: id as string })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
    expect(calls).toEqual([]);
  });
});

describe('hostile file names', () => {
  it('never yield a path outside the job folder', async () => {
    const store = await JobStore.open({ dataDir });
    const job = await store.create({ kind: 'capture' });
    const jobDir = join(dataDir, 'jobs', job.id);
    for (const name of [
      '../x',
      '..',
      '.',
      'a/b',
      '/etc/passwd',
      '',
      '.hidden',
      'manifest.json',
      'r.tmp-ab12',
    ]) {
      expect(() => store.resultPath(job.id, name), name).toThrow(
        expect.objectContaining({ code: 'BAD_ARGUMENT' }),
      );
    }
    for (const ext of ['../x', 'jp/g', '', 'toolongext', '..']) {
      expect(() => store.framePath(job.id, 0, ext), ext).toThrow(
        expect.objectContaining({ code: 'BAD_ARGUMENT' }),
      );
    }
    for (const index of [-1, 1.5, 100_000, Number.NaN]) {
      expect(() => store.framePath(job.id, index, 'jpg')).toThrow(/frame index/);
    }
    expect(store.resultPath(job.id, 'depth-preview.png')).toBe(join(jobDir, 'depth-preview.png'));
    expect(store.framePath(job.id, 12, 'png')).toBe(join(jobDir, 'frames', 'frame-0012.png'));
    sentinelsIntact();
    expect(statSync(join(dataDir, 'x')).isDirectory()).toBe(true);
  });
});
