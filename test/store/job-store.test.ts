// JobStore round trips: create, get, update (serialised per job, batched behind a write, lazy), list
// (paginated, newest first), delete, addFrame, and the durable-write protocol seen through a recording fs.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LAZY_CHANGE_MS } from '../../src/store/job-queue.js';
import { JobStore } from '../../src/store/job-store.js';
import { JOB_ID_PATTERN, manifestSchema } from '../../src/store/manifest.js';
import { fakeClock, makeTempDir, recordingFs, removeTempDir, tinyImage } from './store-helpers.js';

let dataDir: string;
let clock: ReturnType<typeof fakeClock>;
let store: JobStore;

beforeEach(async () => {
  dataDir = await makeTempDir();
  clock = fakeClock('2026-11-28T03:15:00.250Z');
  store = await JobStore.open({ dataDir, now: clock.now });
});
afterEach(() => removeTempDir(dataDir));

const onDisk = (id: string) => JSON.parse(readFileSync(join(dataDir, 'jobs', id, 'manifest.json'), 'utf8'));

describe('create and get', () => {
  it('makes a folder with manifest.json and frames/, and reads it back', async () => {
    const job = await store.create({ kind: 'capture', label: 'ant leg', params: { step: 5 }, total: 40 });
    expect(job.id).toMatch(JOB_ID_PATTERN);
    expect(job.id.startsWith('20261128-031500-')).toBe(true);
    expect(job).toMatchObject({
      version: 1,
      kind: 'capture',
      label: 'ant leg',
      status: 'queued',
      createdAt: '2026-11-28T03:15:00.250Z',
      params: { step: 5 },
      progress: { captured: 0, stacked: 0, total: 40 },
      frames: [],
      results: {},
    });
    expect(readdirSync(join(dataDir, 'jobs', job.id)).sort()).toEqual(['frames', 'manifest.json']);
    expect(onDisk(job.id)).toEqual(job);
    expect(await store.get(job.id)).toEqual(job);
    // Nothing but the job folder is left in jobs/ (the build folder was renamed into place).
    expect(readdirSync(join(dataDir, 'jobs'))).toEqual([job.id]);
  });

  it('gives ids that sort by creation, also within one second', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.create({ kind: 'upload' })).id);
    clock.advance(1000);
    ids.push((await store.create({ kind: 'upload' })).id);
    expect(new Set(ids).size).toBe(6);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[5].startsWith('20261128-031501-')).toBe(true);
  });

  it('refuses a manifest the schema would not read back, and a restack of an unknown job', async () => {
    await expect(store.create({ kind: 'capture', label: 'x'.repeat(201) })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining('label'),
    });
    await expect(store.create({ kind: 'bogus' as 'capture' })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
    await expect(
      store.create({ kind: 'restack', sourceJobId: '20200101-000000-0000' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const source = await store.create({ kind: 'capture' });
    const restack = await store.create({ kind: 'restack', sourceJobId: source.id });
    expect((await store.get(restack.id)).sourceJobId).toBe(source.id);
    expect(readdirSync(join(dataDir, 'jobs')).sort()).toEqual([source.id, restack.id].sort());
  });

  it('says NOT_FOUND for an unknown id and INPUT_UNREADABLE, naming the file, for a corrupt manifest', async () => {
    await expect(store.get('20200101-000000-0000')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    const job = await store.create({ kind: 'capture' });
    const path = join(dataDir, 'jobs', job.id, 'manifest.json');
    writeFileSync(path, '{"version": 1, "id": ');
    await expect(store.get(job.id)).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringContaining(path),
    });
    writeFileSync(path, JSON.stringify({ ...job, id: '20200101-000000-0000' }));
    await expect(store.get(job.id)).rejects.toThrow(/names job 20200101-000000-0000/);
  });
});

describe('update', () => {
  it('writes the mutated manifest, in place or returned', async () => {
    const job = await store.create({ kind: 'capture', total: 3 });
    const started = await store.update(job.id, (m) => {
      m.status = 'capturing';
      m.startedAt = clock.now().toISOString();
    });
    expect(started.status).toBe('capturing');
    const done = await store.update(job.id, (m) => ({
      ...m,
      status: 'done',
      results: { image: 'result.jpg' },
    }));
    expect(onDisk(job.id)).toEqual(done);
    expect(done).toMatchObject({
      status: 'done',
      startedAt: started.startedAt,
      results: { image: 'result.jpg' },
    });
  });

  it('leaves the manifest as it was when the mutator throws or makes it invalid', async () => {
    const job = await store.create({ kind: 'capture' });
    const before = readFileSync(join(dataDir, 'jobs', job.id, 'manifest.json'), 'utf8');
    await expect(
      store.update(job.id, () => {
        throw new Error('runner bug');
      }),
    ).rejects.toThrow('runner bug');
    await expect(store.update(job.id, (m) => ({ ...m, status: 'paused' as 'done' }))).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining('status'),
    });
    await expect(store.update(job.id, (m) => ({ ...m, id: '20200101-000000-0000' }))).rejects.toThrow(
      /may not change its id/,
    );
    await expect(
      store.update(job.id, (m) => {
        m.results.image = '../../etc/passwd';
      }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(readFileSync(join(dataDir, 'jobs', job.id, 'manifest.json'), 'utf8')).toBe(before);
    // The queue goes on after failures.
    expect((await store.update(job.id, (m) => void (m.label = 'after'))).label).toBe('after');
  });

  it('loses none of 100 concurrent increments, also with async mutators and a second field', async () => {
    const job = await store.create({ kind: 'capture' });
    const updates = Array.from({ length: 100 }, (_, i) =>
      store.update(job.id, async (m) => {
        // Yield between read and write: without serialisation every increment would read the same value.
        await new Promise((resolve) => setImmediate(resolve));
        m.progress.captured++;
        if (i % 2 === 0) m.progress.stacked++;
      }),
    );
    const results = await Promise.all(updates);
    expect(onDisk(job.id).progress).toMatchObject({ captured: 100, stacked: 50 });
    // Each update saw the one before it: results are in call order.
    expect(results.map((m) => m.progress.captured)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('writes a temp file, fsyncs it, renames it over manifest.json, then fsyncs the folder', async () => {
    const { fs, calls } = recordingFs();
    const watched = await JobStore.open({ dataDir, fs, now: clock.now });
    const job = await watched.create({ kind: 'capture' });
    calls.length = 0;
    await watched.update(job.id, (m) => void (m.label = 'x'));
    const jobDir = join(dataDir, 'jobs', job.id);
    const manifest = join(jobDir, 'manifest.json');
    const writes = calls.filter((c) => c.op !== 'readFile' && c.op !== 'open');
    expect(writes.map((c) => c.op)).toEqual(['sync', 'rename', 'rename-to', 'sync']);
    expect(writes[0].path).toMatch(/manifest\.json\.tmp-[0-9a-f]+$/);
    expect(writes[1].path).toBe(writes[0].path);
    expect(writes[2].path).toBe(manifest);
    expect(writes[3].path).toBe(jobDir);
    expect(readdirSync(jobDir).sort()).toEqual(['frames', 'manifest.json']);
  });
});

describe('update: group commit', () => {
  it('writes changes asked for while a write is on its way together, each seeing the one before', async () => {
    const { fs, calls } = recordingFs();
    const watched = await JobStore.open({ dataDir, fs, now: clock.now });
    const job = await watched.create({ kind: 'capture' });
    calls.length = 0;
    const first = watched.update(job.id, (m) => void (m.label = 'first'));
    // Asked for in one later turn: they queue behind the first write and share the next one.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 10 }, () => watched.update(job.id, (m) => void m.progress.captured++));
    const results = await Promise.all([first, ...rest]);
    expect(results.map((m) => m.progress.captured)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(results.every((m) => m.label === 'first')).toBe(true);
    const manifestWrites = calls.filter((c) => c.op === 'rename-to' && c.path.endsWith('manifest.json'));
    expect(manifestWrites).toHaveLength(2);
    expect(onDisk(job.id)).toMatchObject({ label: 'first', progress: { captured: 10 } });
  });

  it('refuses only the change that fails in a shared write; the others land', async () => {
    const job = await store.create({ kind: 'capture' });
    const good = store.update(job.id, (m) => void (m.label = 'kept'));
    const bad = store.update(job.id, () => {
      throw new Error('runner bug');
    });
    const invalid = store.update(job.id, (m) => void (m.results.image = '../x'));
    const after = store.update(job.id, (m) => void m.progress.stacked++);
    await expect(bad).rejects.toThrow('runner bug');
    await expect(invalid).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect((await good).label).toBe('kept');
    expect(await after).toMatchObject({ label: 'kept', progress: { stacked: 1 }, results: {} });
    expect(onDisk(job.id)).toEqual(await after);
  });

  it('lets a lazy update ride with the next write; alone it lands after LAZY_CHANGE_MS, or on flush', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { fs, calls } = recordingFs();
      const watched = await JobStore.open({ dataDir, fs, now: clock.now });
      const job = await watched.create({ kind: 'capture' });
      const writes = () =>
        calls.filter((c) => c.op === 'rename-to' && c.path.endsWith('manifest.json')).length;
      calls.length = 0;
      const turns = async (n: number) => {
        for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      const lazy = watched.update(job.id, (m) => void m.progress.stacked++, { lazy: true });
      await turns(5);
      expect(writes()).toBe(0);
      const next = await watched.update(job.id, (m) => void (m.label = 'next'));
      expect((await lazy).progress.stacked).toBe(1);
      expect(writes()).toBe(1);
      expect(next).toMatchObject({ label: 'next', progress: { stacked: 1 } });

      const flushed = watched.update(job.id, (m) => void m.progress.stacked++, { lazy: true });
      await watched.flush(job.id);
      expect((await flushed).progress.stacked).toBe(2);
      expect(writes()).toBe(2);

      const alone = watched.update(job.id, (m) => void m.progress.stacked++, { lazy: true });
      await vi.advanceTimersByTimeAsync(LAZY_CHANGE_MS - 1);
      expect(writes()).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect((await alone).progress.stacked).toBe(3);
      expect(onDisk(job.id).progress.stacked).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('puts addFrame in the queue when it is called: an update asked for after it sees the frame', async () => {
    const job = await store.create({ kind: 'capture', total: 1 });
    await writeFile(store.framePath(job.id, 0, 'jpg'), await tinyImage('jpeg'));
    const added = store.addFrame(job.id, { index: 0, file: 'frame-0000.jpg' });
    const aligned = await store.update(job.id, (m) => {
      const frame = m.frames.find((f) => f.index === 0);
      if (!frame) throw new Error('the frame is not listed yet');
      frame.alignment = { dx: 1 };
      m.progress.stacked = 1;
    });
    await added;
    expect(aligned.frames).toEqual([{ index: 0, file: 'frame-0000.jpg', alignment: { dx: 1 } }]);
    expect(onDisk(job.id).progress).toMatchObject({ captured: 1, stacked: 1 });
  });
});

describe('list', () => {
  it('pages newest first with before/next, skipping an unreadable manifest', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await store.create({ kind: 'capture', label: `job ${i}` })).id);
      clock.advance(60_000);
    }
    writeFileSync(join(dataDir, 'jobs', ids[3], 'manifest.json'), 'garbage');
    // Things people put in jobs/ by hand: list ignores them.
    mkdirSync(join(dataDir, 'jobs', 'not-a-job'));
    writeFileSync(join(dataDir, 'jobs', 'notes.txt'), 'notes');
    const newestFirst = [...ids].reverse().filter((id) => id !== ids[3]);

    const pages: string[][] = [];
    let before: string | undefined;
    do {
      const page = await store.list({ limit: 2, before });
      pages.push(page.jobs.map((j) => j.id));
      before = page.next;
    } while (before);
    expect(pages.flat()).toEqual(newestFirst);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    expect((await store.list()).jobs.map((j) => j.id)).toEqual(newestFirst);
    expect((await store.list({ limit: 6 })).next).toBeUndefined();
  });

  it('rejects a bad limit or cursor', async () => {
    for (const limit of [0, -1, 1.5, 501, Number.NaN]) {
      await expect(store.list({ limit })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
    await expect(store.list({ before: '../x' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('delete', () => {
  it('removes a finished or queued job and refuses an active one with JOB_ACTIVE', async () => {
    const done = await store.create({ kind: 'capture' });
    await store.update(done.id, (m) => void (m.status = 'done'));
    const queued = await store.create({ kind: 'capture' });
    const running = await store.create({ kind: 'capture' });
    await store.update(running.id, (m) => void (m.status = 'stacking'));

    await store.delete(done.id);
    await store.delete(queued.id);
    await expect(store.delete(running.id)).rejects.toMatchObject({
      code: 'JOB_ACTIVE',
      status: 409,
      message: expect.stringContaining('stacking'),
    });
    expect(readdirSync(join(dataDir, 'jobs'))).toEqual([running.id]);
    await expect(store.get(done.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.delete(done.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // An update queued behind a delete finds the job gone instead of writing it back.
    const again = await store.create({ kind: 'upload' });
    const [deleted, late] = await Promise.allSettled([
      store.delete(again.id),
      store.update(again.id, (m) => void (m.label = 'late')),
    ]);
    expect(deleted.status).toBe('fulfilled');
    expect(late).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
    expect(existsSync(join(dataDir, 'jobs', again.id))).toBe(false);
  });
});

describe('addFrame', () => {
  it('lists a whole frame after fsyncing it and its folder, in index order', async () => {
    const { fs, calls } = recordingFs();
    const watched = await JobStore.open({ dataDir, fs, now: clock.now });
    const job = await watched.create({ kind: 'capture', total: 2 });
    const second = watched.framePath(job.id, 1, 'jpg');
    const first = watched.framePath(job.id, 0, '.JPG');
    expect(first).toBe(join(dataDir, 'jobs', job.id, 'frames', 'frame-0000.jpg'));
    await writeFile(second, await tinyImage('jpeg'));
    await writeFile(first, await tinyImage('jpeg'));
    calls.length = 0;
    await watched.addFrame(job.id, {
      index: 1,
      file: 'frame-0001.jpg',
      stageUm: 105,
      exposure: { shutterUs: 8000 },
    });
    const syncs = calls.filter((c) => c.op === 'sync').map((c) => c.path);
    expect(syncs.slice(0, 2)).toEqual([second, join(dataDir, 'jobs', job.id, 'frames')]);
    const firstManifestRename = calls.findIndex(
      (c) => c.op === 'rename-to' && c.path.endsWith('manifest.json'),
    );
    expect(calls.findIndex((c) => c.op === 'sync' && c.path === second)).toBeLessThan(firstManifestRename);

    const after = await watched.addFrame(job.id, { index: 0, file: 'frame-0000.jpg', stageUm: 100 });
    expect(after.frames.map((f) => f.file)).toEqual(['frame-0000.jpg', 'frame-0001.jpg']);
    expect(after.progress.captured).toBe(2);
    expect(manifestSchema.parse(onDisk(job.id))).toEqual(after);
  });

  it('refuses a truncated, missing or duplicate frame and leaves the manifest alone', async () => {
    const job = await store.create({ kind: 'capture' });
    const jpeg = await tinyImage('jpeg');
    await writeFile(store.framePath(job.id, 0, 'jpg'), jpeg.subarray(0, jpeg.length - 10));
    await expect(store.addFrame(job.id, { index: 0, file: 'frame-0000.jpg' })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringMatching(/frame-0000\.jpg: JPEG without its end marker/),
    });
    await expect(store.addFrame(job.id, { index: 0, file: 'frame-0009.jpg' })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
    await writeFile(store.framePath(job.id, 0, 'jpg'), jpeg);
    await store.addFrame(job.id, { index: 0, file: 'frame-0000.jpg' });
    await expect(store.addFrame(job.id, { index: 0, file: 'frame-0000.jpg' })).rejects.toThrow(
      /already has frame 0/,
    );
    await expect(store.addFrame(job.id, { index: 1, file: '../manifest.json' })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
    expect((await store.get(job.id)).frames).toHaveLength(1);
  });
});
