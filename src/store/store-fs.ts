// The job store's edge to the file system: the few fs calls it makes (injectable, so tests can spy
// on every path touched) and durable writes that a crash or power cut cannot leave half done.
import * as nodeFs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { StackscopeError } from '../errors.js';

/** The subset of node:fs/promises the store uses; pass a wrapper to observe or fake it. */
export interface StoreFs {
  mkdir: typeof nodeFs.mkdir;
  open: typeof nodeFs.open;
  readFile: typeof nodeFs.readFile;
  readdir: typeof nodeFs.readdir;
  rename: typeof nodeFs.rename;
  rm: typeof nodeFs.rm;
  stat: typeof nodeFs.stat;
  statfs: typeof nodeFs.statfs;
}

export const defaultFs: StoreFs = nodeFs;

/** Optional structured logger (pino's Logger fits). */
export interface StoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/**
 * Names of unfinished writes: the store's `<name>.tmp-<hex>` (files, and job folders being created
 * or deleted) and stack/io.ts writeFileAtomic's `.<name>.<pid>-<hex>.tmp` (once `.<name>.<pid>.tmp`).
 * Nothing else ends like these.
 */
export function isTempName(name: string): boolean {
  return /\.tmp-[0-9a-f]+$/.test(name) || /^\..+\.\d+(-[0-9a-f]+)?\.tmp$/.test(name);
}

/** A temp name beside `path`, unique even when one process writes the same file twice at once. */
export const tempPathFor = (path: string): string => `${path}.tmp-${randomHex(6)}`;

/**
 * Makes a rename or a new entry in `dir` survive a power cut. Without it ext4 may forget the rename
 * while keeping the renamed file's data, and the old manifest comes back after reboot.
 */
export async function syncDir(fs: StoreFs, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opens, fsyncs and closes a finished file, so its data is on the disk before anything points to it. */
export async function syncFile(fs: StoreFs, path: string): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** ENOSPC becomes DISK_FULL, anything else OUTPUT_FAILED, both naming the path. */
export function writeError(path: string, error: unknown): StackscopeError {
  if (error instanceof StackscopeError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why = (error as Error).message;
  return code === 'ENOSPC'
    ? new StackscopeError('DISK_FULL', `cannot write ${path}: the disk is full (${why})`, { cause: error })
    : new StackscopeError('OUTPUT_FAILED', `cannot write ${path}: ${why}`, { cause: error });
}

/**
 * Replaces `path` so that a reader (or the next start after a crash) sees either the old or the
 * new content, never a mix: write a temp file, fsync it, rename it over `path`, fsync the folder.
 */
export async function writeFileDurable(fs: StoreFs, path: string, data: string | Buffer): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    // 'wx': a leftover with the same random name is never reused, and never followed as a symlink.
    const handle = await fs.open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(path, error);
  }
  try {
    await syncDir(fs, dirname(path));
  } catch (error) {
    // The new content is in place; only its durability across a power cut is in doubt.
    throw writeError(`${dirname(path)} (after renaming ${basename(path)})`, error);
  }
}

/** True when a readdir/stat/open failed because the thing is not there. */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
