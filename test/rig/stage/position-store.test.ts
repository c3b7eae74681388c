// Checks the stage position file: saved positions come back certain, a "moving" record left by a crash
// comes back uncertain with its reason, missing and corrupt files never throw, writes are atomic, and
// the lazy "idle" record after a move: uncertain if it never landed, certain after a flush or a pause.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StackscopeError } from '../../../src/errors.js';
import { IDLE_SAVE_DELAY_MS, PositionStore } from '../../../src/rig/stage/position-store.js';
import { countingPositionFs } from '../../helpers/counting-fs.js';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-position-'));
  path = join(dir, 'stage.json');
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

describe('PositionStore', () => {
  it('says there is no saved position when the file is missing, at 0', async () => {
    const loaded = await new PositionStore(path).load();
    expect(loaded.um).toBe(0);
    expect(loaded.certain).toBe(false);
    expect(loaded.uncertainReason).toMatch(/^no saved position/);
    expect(loaded.uncertainReason).toContain(path);
    expect(loaded.uncertainReason).toContain('home the stage or set its position');
  });

  it('gives back a certain position after a clean save, also to a new store (a restart)', async () => {
    await new PositionStore(path).saveAt({ um: 123.375, certain: true });
    expect(await new PositionStore(path).load()).toEqual({ um: 123.375, certain: true });
  });

  it('keeps an uncertain position uncertain, with its reason, across a restart', async () => {
    const reason = 'homing failed: no switch; home the stage or set its position';
    await new PositionStore(path).saveAt({ um: 40, certain: false, uncertainReason: reason });
    expect(await new PositionStore(path).load()).toEqual({ um: 40, certain: false, uncertainReason: reason });
  });

  it('reports a run that ended mid-move (the "moving" record left behind) as uncertain', async () => {
    const store = new PositionStore(path);
    await store.saveAt({ um: 100, certain: true });
    await store.saveMoving(100, 37.5);
    // No saveAt: the process died here.
    const loaded = await new PositionStore(path).load();
    expect(loaded.certain).toBe(false);
    expect(loaded.uncertainReason).toBe(
      'the last run ended during a move from 100 to 37.5 µm (or before its end was saved); home the stage or set its position',
    );
    expect(loaded.um).toBe(100);
  });

  it('is certain again once the move that followed the "moving" record was saved', async () => {
    const store = new PositionStore(path);
    await store.saveMoving(100, 37.5);
    await store.saveAt({ um: 37.5, certain: true });
    expect(await new PositionStore(path).load()).toEqual({ um: 37.5, certain: true });
  });

  it.each([
    ['an empty file', ''],
    ['truncated JSON', '{"version":1,"state":"idle","um":12'],
    ['not JSON', 'position = 12 µm'],
    ['a wrong version', JSON.stringify({ version: 7, state: 'idle', um: 1, certain: true })],
    ['a non-numeric position', JSON.stringify({ version: 1, state: 'idle', um: 'far', certain: true })],
    ['an unknown state', JSON.stringify({ version: 1, state: 'flying', um: 1 })],
    ['an array', '[1,2,3]'],
    ['null', 'null'],
  ])('treats %s as an uncertain position with the reason, without throwing', async (_what, content) => {
    await writeFile(path, content);
    const loaded = await new PositionStore(path).load();
    expect(loaded).toMatchObject({ um: 0, certain: false });
    expect(loaded.uncertainReason).toMatch(/^the saved position in .* is unreadable \(.+\); home the stage/);
    expect(loaded.uncertainReason).toContain(path);
  });

  it('names the offending field of a malformed record', async () => {
    await writeFile(path, JSON.stringify({ version: 1, state: 'moving', fromUm: 3, toUm: null }));
    expect((await new PositionStore(path).load()).uncertainReason).toContain('toUm');
  });

  it('writes whole files only: valid JSON after every write and no temp files left behind', async () => {
    const store = new PositionStore(path, { now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });
    await store.saveMoving(0, 10);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 1,
      state: 'moving',
      fromUm: 0,
      toUm: 10,
      savedAt: '2025-01-02T03:04:05.000Z',
    });
    await store.saveAt({ um: 10, certain: true });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ state: 'idle', um: 10, certain: true });
    expect(await readdir(dir)).toEqual(['stage.json']);
  });

  it('keeps the order of writes asked for without awaiting each: the newest wins', async () => {
    const store = new PositionStore(path);
    const writes = [];
    for (let i = 0; i < 20; i++)
      writes.push(store.saveMoving(i, i + 1), store.saveAt({ um: i + 1, certain: true }));
    await Promise.all(writes);
    await store.flush();
    expect(await store.load()).toEqual({ um: 20, certain: true });
    expect(await readdir(dir)).toEqual(['stage.json']);
  });

  it('creates the directory of the state file', async () => {
    const nested = join(dir, 'state', 'rig', 'stage.json');
    await new PositionStore(nested).saveAt({ um: 5, certain: true });
    expect(await new PositionStore(nested).load()).toEqual({ um: 5, certain: true });
  });

  it('fails a write with OUTPUT_FAILED naming the path, and leaves no temp file', async () => {
    await writeFile(join(dir, 'blocker'), 'a file where a directory should be');
    const impossible = join(dir, 'blocker', 'stage.json');
    const error = await new PositionStore(impossible).saveMoving(1, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackscopeError);
    expect((error as StackscopeError).code).toBe('OUTPUT_FAILED');
    expect((error as Error).message).toContain(impossible);
    expect((await readdir(dir)).sort()).toEqual(['blocker']);
  });
});

describe('PositionStore: the lazy "idle" record after a move', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });

  it('restarts uncertain when the run dies between the "moving" record of a move and its idle record', async () => {
    const store = new PositionStore(path);
    await store.saveAt({ um: 100, certain: true });
    await store.saveMoving(100, 250);
    void store.saveAtLater({ um: 250, certain: true });
    // The process dies here, before the delay is over: the idle record never lands.
    const restarted = await new PositionStore(path).load();
    expect(restarted).toMatchObject({ um: 100, certain: false });
    expect(restarted.uncertainReason).toMatch(
      /during a move from 100 to 250 µm \(or before its end was saved\)/,
    );
  });

  it('is certain after a normal close (flush), without waiting for the delay', async () => {
    const store = new PositionStore(path);
    await store.saveMoving(100, 250);
    const landed = store.saveAtLater({ um: 250, certain: true });
    await store.flush();
    await landed;
    expect(await new PositionStore(path).load()).toEqual({ um: 250, certain: true });
  });

  it('writes the idle record once the stage has stood still for the delay', async () => {
    const store = new PositionStore(path);
    await store.saveMoving(0, 40);
    const landed = store.saveAtLater({ um: 40, certain: true });
    await vi.advanceTimersByTimeAsync(IDLE_SAVE_DELAY_MS - 1);
    expect((await store.load()).certain).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await landed;
    expect(await store.load()).toEqual({ um: 40, certain: true });
  });

  it('a burst of N moves costs N + 1 durable writes, not 2N, and ends certain where it stopped', async () => {
    const { fs, counts } = countingPositionFs();
    const store = new PositionStore(path, { fs });
    const moves = 12;
    const superseded: Promise<void>[] = [];
    for (let i = 0; i < moves; i++) {
      await store.saveMoving(i * 10, (i + 1) * 10);
      superseded.push(store.saveAtLater({ um: (i + 1) * 10, certain: true }));
    }
    // Each "moving" record was durable before its move: a file fsync and a folder fsync apiece.
    expect(counts.writes).toBe(moves);
    expect(counts.fsyncs).toBe(2 * moves);
    await store.flush();
    await Promise.all(superseded);
    expect(counts.writes).toBe(moves + 1);
    expect(await new PositionStore(path).load()).toEqual({ um: moves * 10, certain: true });
  });

  it('a declared position (saveAt) is durable at once and replaces a pending idle record', async () => {
    const { fs, counts } = countingPositionFs();
    const store = new PositionStore(path, { fs });
    void store.saveAtLater({ um: 5, certain: true });
    await store.saveAt({ um: 7, certain: true });
    expect(counts.writes).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * IDLE_SAVE_DELAY_MS);
    await store.flush();
    expect(counts.writes).toBe(1);
    expect(await store.load()).toEqual({ um: 7, certain: true });
  });
});
