// Crash safety of manifest writes: writer processes updating manifests in a tight loop are killed
// with SIGKILL at random moments; after every kill each manifest parses and is a version written whole.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/job-store.js';
import { parseManifest, type Manifest } from '../../src/store/manifest.js';
import { recoverJobs } from '../../src/store/recovery.js';
import { versionOf } from './crash-versions.js';
import { makeTempDir, removeTempDir } from './store-helpers.js';

const WRITER = resolve(import.meta.dirname, 'crash-writer.ts');
const REPO = resolve(import.meta.dirname, '../..');
/**
 * Writers run side by side, each on its own job. A start-up under tsx costs ~0.7 s of CPU, so the
 * 21 kills make this the slowest store test (~10 s on 2 cores); fewer would not be "20+".
 */
const LANES = 3;
const ROUNDS = 7;
const MAX_DELAY_MS = 40;

let dataDir: string;
beforeEach(async () => {
  dataDir = await makeTempDir('stackscope-crash-');
});
afterEach(() => removeTempDir(dataDir));

/** Seeded, so a failing kill schedule can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts a writer, lets it run until its first update returned plus `delayMs`, then SIGKILLs it. */
async function runAndKill(id: string, delayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, id], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const closed = new Promise<NodeJS.Signals | null>((done) =>
    child.on('close', (_code, signal) => done(signal)),
  );
  await new Promise<void>((started, failed) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('\n')) started();
    });
    void closed.then(() => failed(new Error(`writer stopped before writing: ${err}`)));
  });
  await sleep(delayMs);
  child.kill('SIGKILL');
  expect(await closed).toBe('SIGKILL');
  // Every line was printed after its update returned; lines are far below PIPE_BUF, never torn.
  const lines = out.slice(0, out.lastIndexOf('\n')).split('\n');
  return Number(lines[lines.length - 1]);
}

describe('manifest writes under SIGKILL', () => {
  it('leave, after each of 21 kills, a manifest that parses and is one of the written versions', async () => {
    const store = await JobStore.open({ dataDir });
    const bases: Manifest[] = [];
    for (let lane = 0; lane < LANES; lane++) bases.push(await store.create({ kind: 'capture', total: 99 }));
    const random = mulberry32(20261128);
    const delays = Array.from({ length: LANES * ROUNDS }, () => Math.floor(random() * MAX_DELAY_MS));
    let kills = 0;

    // On a failure the other lanes stop too, and all are awaited, so no writer outlives the test
    // and recreates its folder after the clean-up.
    let failed = false;
    const lanes = await Promise.allSettled(
      bases
        .map(async (base, lane) => {
          let previous = 0;
          for (let round = 0; round < ROUNDS && !failed; round++) {
            const confirmed = await runAndKill(base.id, delays[lane * ROUNDS + round]);
            kills++;
            const text = readFileSync(join(dataDir, 'jobs', base.id, 'manifest.json'), 'utf8');
            const parsed = parseManifest(text);
            expect(parsed, `lane ${lane} round ${round}: ${text.slice(0, 80)}`).toMatchObject({ ok: true });
            const manifest = (parsed as { manifest: Manifest }).manifest;
            const n = manifest.progress.captured;
            // What returned is on disk; at most the one update in flight at the kill came after it.
            expect(n).toBeGreaterThanOrEqual(confirmed);
            expect(n).toBeLessThanOrEqual(confirmed + 1);
            expect(n).toBeGreaterThan(previous);
            expect(manifest).toEqual(versionOf(base, n));
            previous = n;
          }
        })
        .map((lane) =>
          lane.catch((error: unknown) => {
            failed = true;
            throw error;
          }),
        ),
    );
    for (const lane of lanes) if (lane.status === 'rejected') throw lane.reason;
    expect(kills).toBe(LANES * ROUNDS);

    // Kills between creating a temp file and renaming it leave the temp behind. Seeing at least one
    // shows the kills hit the dangerous window (about half of each loop; missing it 21 times in a
    // row has odds below one in a million). Recovery removes them all.
    const temps = bases.flatMap((b) =>
      readdirSync(join(dataDir, 'jobs', b.id))
        .filter((f) => f.startsWith('manifest.json.tmp-'))
        .map((f) => join(dataDir, 'jobs', b.id, f)),
    );
    expect(temps.length).toBeGreaterThan(0);
    const report = await recoverJobs(store);
    expect(report.removedTemp.sort()).toEqual(temps.sort());
    expect(report.interrupted.sort()).toEqual(bases.map((b) => b.id).sort());
    for (const base of bases) {
      expect(readdirSync(join(dataDir, 'jobs', base.id)).sort()).toEqual(['frames', 'manifest.json']);
    }
  }, 180_000);
});
