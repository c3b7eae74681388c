// Recovery at daemon start: running jobs become interrupted with their whole frames kept, orphan
// frames adopted or moved aside, temp files removed, unreadable folders reported and left alone.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFrameFile } from '../../src/store/frame-check.js';
import { JobStore } from '../../src/store/job-store.js';
import type { Manifest } from '../../src/store/manifest.js';
import { recoverJobs } from '../../src/store/recovery.js';
import { defaultFs } from '../../src/store/store-fs.js';
import { fakeClock, makeTempDir, removeTempDir, tinyImage } from './store-helpers.js';

let dataDir: string;
let clock: ReturnType<typeof fakeClock>;
let store: JobStore;

beforeEach(async () => {
  dataDir = await makeTempDir('stackscope-recovery-');
  clock = fakeClock('2026-11-28T03:15:00Z');
  store = await JobStore.open({ dataDir, now: clock.now });
});
afterEach(() => removeTempDir(dataDir));

/** Snapshot of every file under a folder (path → content), to prove recovery left it untouched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path] = readFileSync(path, 'base64');
    }
  }
  return out;
}

async function jobWith(status: Manifest['status'], total = 6): Promise<Manifest> {
  const job = await store.create({ kind: 'capture', total });
  return store.update(job.id, (m) => void (m.status = status));
}

describe('recoverJobs', () => {
  it('interrupts a capturing job, keeps whole frames, adopts orphans and moves broken ones aside', async () => {
    const jpeg = await tinyImage('jpeg');
    const png = await tinyImage('png');
    const job = await jobWith('capturing');
    const frames = (name: string) => join(dataDir, 'jobs', job.id, 'frames', name);
    // Listed: 0 whole, 1 whole, 5 gone from disk, 6 truncated after it was listed (hand-damaged).
    for (const i of [0, 1, 6]) writeFileSync(store.framePath(job.id, i, 'jpg'), jpeg);
    for (const i of [0, 1, 6])
      await store.addFrame(job.id, { index: i, file: `frame-000${i}.jpg`, stageUm: i * 10 });
    await store.update(job.id, (m) => void m.frames.push({ index: 5, file: 'frame-0005.jpg' }));
    writeFileSync(frames('frame-0006.jpg'), jpeg.subarray(0, 40));
    // Not listed (written just before the crash): 2 whole, 3 truncated, 4 empty PNG, 7 whole PNG.
    writeFileSync(frames('frame-0002.jpg'), jpeg);
    writeFileSync(frames('frame-0003.jpg'), jpeg.subarray(0, jpeg.length - 2));
    writeFileSync(frames('frame-0004.png'), '');
    writeFileSync(frames('frame-0007.png'), png);
    // A file that is not a frame name, and temp files of unfinished writes.
    writeFileSync(frames('notes.txt'), 'focus drifted');
    writeFileSync(frames('frame-0008.jpg.tmp-ab12cd'), jpeg.subarray(0, 10));
    writeFileSync(join(dataDir, 'jobs', job.id, 'manifest.json.tmp-0a1b2c'), '{"half');
    writeFileSync(join(dataDir, 'jobs', job.id, '.result.jpg.1234.tmp'), 'half a result');
    // The reference shot of a capture stopped between taking it and removing it.
    writeFileSync(join(dataDir, 'jobs', job.id, 'reference.jpg'), jpeg);
    clock.set('2026-11-28T04:00:00Z');

    const report = await recoverJobs(store);

    const after = await store.get(job.id);
    expect(after.status).toBe('interrupted');
    expect(after.finishedAt).toBe('2026-11-28T04:00:00.000Z');
    expect(after.frames.map((f) => f.file)).toEqual([
      'frame-0000.jpg',
      'frame-0001.jpg',
      'frame-0002.jpg',
      'frame-0007.png',
    ]);
    expect(after.frames[1]).toEqual({ index: 1, file: 'frame-0001.jpg', stageUm: 10 });
    expect(after.progress).toMatchObject({ captured: 4, total: 6 });
    expect(after.note).toMatch(/interrupted while capturing/);
    expect(after.note).toMatch(/4 frame\(s\) kept \(2 recovered from disk\), 3 broken .*, 1 missing/);
    expect(report.interrupted).toEqual([job.id]);
    expect(report.adoptedFrames.map((f) => f.file)).toEqual(['frame-0002.jpg', 'frame-0007.png']);
    expect(report.missingFrames).toEqual([{ jobId: job.id, file: 'frame-0005.jpg' }]);
    expect(Object.fromEntries(report.brokenFrames.map((f) => [f.file, f.reason]))).toEqual({
      'frame-0003.jpg': expect.stringMatching(/end marker/),
      'frame-0004.png': 'empty file',
      'frame-0006.jpg': expect.stringMatching(/end marker/),
    });
    expect(readdirSync(frames('broken')).sort()).toEqual([
      'frame-0003.jpg',
      'frame-0004.png',
      'frame-0006.jpg',
    ]);
    expect(readdirSync(frames('')).sort()).toEqual([
      'broken',
      'frame-0000.jpg',
      'frame-0001.jpg',
      'frame-0002.jpg',
      'frame-0007.png',
      'notes.txt',
    ]);
    expect(readdirSync(join(dataDir, 'jobs', job.id)).sort()).toEqual(['frames', 'manifest.json']);
    expect(report.removedTemp).toHaveLength(4);
    expect(report.removedTemp).toContain(join(dataDir, 'jobs', job.id, 'reference.jpg'));
  });

  it('interrupts queued and stacking jobs, leaves finished ones as they were, and is idempotent', async () => {
    const queued = await jobWith('queued');
    const stacking = await jobWith('stacking');
    const done = await store.update((await jobWith('stacking')).id, (m) => {
      m.status = 'done';
      m.finishedAt = '2026-11-28T03:20:00.000Z';
    });
    const failed = await jobWith('failed');

    const first = await recoverJobs(store);
    expect(first.interrupted.sort()).toEqual([queued.id, stacking.id].sort());
    expect(await store.get(done.id)).toEqual(done);
    expect(await store.get(failed.id)).toEqual(failed);
    expect((await store.get(queued.id)).note).toMatch(/interrupted while queued/);
    expect((await store.get(stacking.id)).status).toBe('interrupted');

    const before = snapshot(join(dataDir, 'jobs'));
    const second = await recoverJobs(store);
    expect(second).toMatchObject({ interrupted: [], adoptedFrames: [], brokenFrames: [], removedTemp: [] });
    expect(snapshot(join(dataDir, 'jobs'))).toEqual(before);
  });

  it('reports and skips folders with a corrupt or missing manifest without touching them', async () => {
    const running = await jobWith('capturing');
    const corrupt = await jobWith('capturing');
    const corruptDir = join(dataDir, 'jobs', corrupt.id);
    writeFileSync(join(corruptDir, 'manifest.json'), '{ "version": 1, "id": "hand edited');
    writeFileSync(join(corruptDir, 'manifest.json.tmp-abcdef'), 'the user may want this');
    const bare = join(dataDir, 'jobs', '20261127-120000-0000');
    mkdirSync(join(bare, 'frames'), { recursive: true });
    writeFileSync(join(bare, 'frames', 'frame-0000.jpg'), await tinyImage('jpeg'));
    mkdirSync(join(dataDir, 'jobs', 'my exports'));
    const untouched = { ...snapshot(corruptDir), ...snapshot(bare) };
    // A half-created job folder (crash before its rename into place) is removed.
    const halfBuilt = join(dataDir, 'jobs', '.20261128-031500-0001.tmp-77aa');
    mkdirSync(join(halfBuilt, 'frames'), { recursive: true });

    const lines: { msg: string; folder?: string; problem?: string }[] = [];
    const logger = pino(
      { base: null },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const report = await recoverJobs(store, { logger });

    expect(report.interrupted).toEqual([running.id]);
    expect(report.skipped.map((s) => s.name).sort()).toEqual(
      ['20261127-120000-0000', corrupt.id, 'my exports'].sort(),
    );
    expect(report.skipped.find((s) => s.name === corrupt.id)?.problem).toMatch(
      /manifest.json: not a valid job manifest/,
    );
    expect(report.skipped.find((s) => s.name === '20261127-120000-0000')?.problem).toBe(
      'manifest.json is missing',
    );
    expect({ ...snapshot(corruptDir), ...snapshot(bare) }).toEqual(untouched);
    expect(existsSync(halfBuilt)).toBe(false);
    expect(report.removedTemp).toEqual([halfBuilt]);
    const warned = lines.filter((l) => l.msg.includes('skipped by recovery'));
    expect(warned.map((l) => l.folder).sort()).toEqual(
      report.skipped.map((s) => join(dataDir, 'jobs', s.name)).sort(),
    );
    expect(lines.some((l) => l.msg.includes('recovered after an unclean stop'))).toBe(true);
  });
});

describe('checkFrameFile', () => {
  it('accepts whole JPEG, PNG, WebP and TIFF files and names what is wrong with cut ones', async () => {
    const dir = join(dataDir, 'check');
    mkdirSync(dir);
    const verdicts: Record<string, unknown> = {};
    for (const format of ['jpeg', 'png', 'webp', 'tiff'] as const) {
      const data = await tinyImage(format);
      writeFileSync(join(dir, format), data);
      writeFileSync(join(dir, `${format}-cut`), data.subarray(0, data.length - 5));
      verdicts[format] = await checkFrameFile(defaultFs, join(dir, format));
      verdicts[`${format}-cut`] = await checkFrameFile(defaultFs, join(dir, `${format}-cut`));
    }
    writeFileSync(join(dir, 'padded'), Buffer.concat([await tinyImage('jpeg'), Buffer.alloc(7)]));
    writeFileSync(join(dir, 'text'), 'not an image at all');
    verdicts.padded = await checkFrameFile(defaultFs, join(dir, 'padded'));
    verdicts.text = await checkFrameFile(defaultFs, join(dir, 'text'));
    verdicts.missing = await checkFrameFile(defaultFs, join(dir, 'missing'));
    verdicts.folder = await checkFrameFile(defaultFs, dir);
    expect(verdicts).toEqual({
      jpeg: expect.objectContaining({ ok: true, format: 'jpeg' }),
      'jpeg-cut': { ok: false, reason: expect.stringMatching(/FFD9/) },
      png: expect.objectContaining({ ok: true, format: 'png' }),
      'png-cut': { ok: false, reason: expect.stringMatching(/IEND/) },
      webp: expect.objectContaining({ ok: true, format: 'webp' }),
      'webp-cut': { ok: false, reason: expect.stringMatching(/WebP .* truncated/) },
      // TIFF has no end marker: a cut TIFF passes this cheap check (the decoder catches it later).
      tiff: expect.objectContaining({ ok: true, format: 'tiff' }),
      'tiff-cut': expect.objectContaining({ ok: true, format: 'tiff' }),
      padded: expect.objectContaining({ ok: true, format: 'jpeg' }),
      text: { ok: false, reason: expect.stringMatching(/not a JPEG, PNG, WebP or TIFF/) },
      missing: { ok: false, reason: expect.stringMatching(/ENOENT/) },
      folder: { ok: false, reason: 'not a regular file' },
    });
  });
});
