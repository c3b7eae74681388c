// A kill while a result or the running preview is being written leaves writeFileAtomic's temp file
// (`.preview.jpg.<pid>-<hex>.tmp`) in the job folder. The soak run found recovery leaving those behind
// at every restart (the name check knew only `.<name>.<pid>.tmp`); they must go, like the store's own.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/job-store.js';
import { recoverJobs } from '../../src/store/recovery.js';
import { isTempName } from '../../src/store/store-fs.js';

let dataDir = '';

afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The temp name stack/io.ts writeFileAtomic gives `name`: hidden, pid, 8 random hex digits. */
const atomicTemp = (name: string, pid: number, hex: string) => `.${name}.${pid}-${hex}.tmp`;

describe('recovery and unfinished result writes', () => {
  it('knows writeFileAtomic’s temp names as temp names, and nothing a user would name a file', () => {
    expect(isTempName(atomicTemp('preview.jpg', 31691, '2e691da6'))).toBe(true);
    expect(isTempName(atomicTemp('result.jpg', 7, '00000000'))).toBe(true);
    expect(isTempName('.result.jpg.4242.tmp')).toBe(true);
    expect(isTempName('manifest.json.tmp-9f3c1a')).toBe(true);
    for (const name of ['result.jpg', '.hidden', 'notes.tmp', 'frame-0001.jpg', '.result.jpg.tmp'])
      expect(isTempName(name), name).toBe(false);
  });

  it('removes them from the job folder of an interrupted job and of a finished one', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stackscope-temps-'));
    const store = await JobStore.open({ dataDir });
    const running = await store.create({ kind: 'capture', total: 5 });
    await store.update(running.id, (m) => {
      m.status = 'capturing';
    });
    const finished = await store.create({ kind: 'capture', total: 5 });
    await store.update(finished.id, (m) => {
      m.status = 'done';
    });
    const leftovers = [
      atomicTemp('preview.jpg', 31691, '2e691da6'),
      atomicTemp('depth.png', 31691, 'a1b2c3d4'),
    ];
    for (const id of [running.id, finished.id]) {
      for (const name of leftovers) await writeFile(join(store.jobDir(id), name), 'half an image');
      await writeFile(join(store.jobDir(id), 'notes.txt'), 'kept');
    }
    const report = await recoverJobs(store);
    for (const id of [running.id, finished.id])
      expect((await readdir(store.jobDir(id))).sort()).toEqual(['frames', 'manifest.json', 'notes.txt']);
    expect(report.removedTemp).toHaveLength(4);
    expect(report.interrupted).toEqual([running.id]);
  });
});
