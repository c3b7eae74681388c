// The real file system for the stage's position store, counting durable writes (renames onto the
// state file) and fsyncs, so tests can say what a move costs.
import * as nodeFs from 'node:fs/promises';
import type { PositionFs } from '../../src/rig/stage/position-store.js';

export function countingPositionFs(): { fs: PositionFs; counts: { writes: number; fsyncs: number } } {
  const counts = { writes: 0, fsyncs: 0 };
  const fs: PositionFs = {
    ...nodeFs,
    rename: (async (from: string, to: string) => {
      await nodeFs.rename(from, to);
      counts.writes++;
    }) as PositionFs['rename'],
    open: (async (...args: Parameters<typeof nodeFs.open>) => {
      const handle = await nodeFs.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        await sync();
        counts.fsyncs++;
      };
      return handle;
    }) as PositionFs['open'],
  };
  return { fs, counts };
}
