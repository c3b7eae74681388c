// Shared by the store tests: a throw-away data folder, tiny real images, a clock the test moves,
// and a file system wrapper that records every path the store touches (and every fsync).
import * as nodeFs from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { StoreFs } from '../../src/store/store-fs.js';

export async function makeTempDir(prefix = 'stackscope-store-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

const cache = new Map<string, Buffer>();

/** A real 16×12 image as a camera would write it (sharp-encoded), cached across tests. */
export async function tinyImage(format: 'jpeg' | 'png' | 'webp' | 'tiff'): Promise<Buffer> {
  let data = cache.get(format);
  if (!data) {
    const pixels = Buffer.from(Array.from({ length: 16 * 12 * 3 }, (_, i) => (i * 53) % 256));
    data = await sharp(pixels, { raw: { width: 16, height: 12, channels: 3 } })
      .toFormat(format)
      .toBuffer();
    cache.set(format, data);
  }
  return data;
}

/** A wall clock that only moves when the test says so. */
export function fakeClock(startIso: string) {
  let t = Date.parse(startIso);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(iso: string) {
      t = Date.parse(iso);
    },
  };
}

export interface FsCall {
  op: string;
  path: string;
}

/**
 * node:fs/promises with every call logged as { op, path } (rename logs both paths, `sync` logs the
 * handle's path), so tests can prove which paths were touched and in which order.
 */
export function recordingFs(): { fs: StoreFs; calls: FsCall[] } {
  const calls: FsCall[] = [];
  const log = (op: string, path: unknown) => calls.push({ op, path: String(path) });
  /** Logs the first argument (the path), then calls through with every argument unchanged. */
  const wrap = <F>(op: string, fn: F): F =>
    ((...args: unknown[]) => {
      log(op, args[0]);
      return (fn as (...a: unknown[]) => unknown)(...args);
    }) as F;
  const fs: StoreFs = {
    mkdir: wrap('mkdir', nodeFs.mkdir),
    open: (async (path: string, flags?: string, mode?: number) => {
      log('open', path);
      const handle = await nodeFs.open(path, flags, mode);
      const sync = handle.sync.bind(handle);
      handle.sync = () => {
        log('sync', path);
        return sync();
      };
      return handle;
    }) as StoreFs['open'],
    readFile: wrap('readFile', nodeFs.readFile),
    readdir: wrap('readdir', nodeFs.readdir),
    rename: (from, to) => {
      log('rename', from);
      log('rename-to', to);
      return nodeFs.rename(from, to);
    },
    rm: wrap('rm', nodeFs.rm),
    stat: wrap('stat', nodeFs.stat),
    statfs: wrap('statfs', nodeFs.statfs),
  };
  return { fs, calls };
}
