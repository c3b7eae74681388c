// One process at a time drives the rig: a lock file holding the owner's pid. A second process (a
// `stackscope jog` while the daemon runs) is told who holds it; a lock left by a dead process is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StackscopeError } from '../errors.js';

export interface RigLock {
  release(): Promise<void>;
}

/** Locks this process holds: after a reboot our pid may equal a dead holder's, so pid alone cannot tell. */
const held = new Set<string>();

export async function lockRig(stateDir: string, owner: string): Promise<RigLock> {
  const path = join(stateDir, 'rig.lock');
  if (held.has(path))
    throw new StackscopeError('RIG_BUSY', `the rig is already open in this process (${path})`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(JSON.stringify({ pid: process.pid, owner, since: new Date().toISOString() }));
      await file.close();
      held.add(path);
      return {
        release: async () => {
          held.delete(path);
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new StackscopeError(
        'RIG_BUSY',
        `the rig is in use by ${holder.owner} (pid ${holder.pid}, since ${holder.since}); stop it first (e.g. sudo systemctl stop stackscope)`,
      );
    }
    // The holder died without releasing (kill -9, power cut): the lock is stale.
    await rm(path, { force: true });
  }
  throw new StackscopeError('RIG_BUSY', `could not take the rig lock ${path}`);
}

async function readHolder(path: string): Promise<{ pid: number; owner: string; since: string } | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as {
      pid?: unknown;
      owner?: unknown;
      since?: unknown;
    };
    return typeof parsed.pid === 'number'
      ? {
          pid: parsed.pid,
          owner: String(parsed.owner ?? 'another process'),
          since: String(parsed.since ?? '?'),
        }
      : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's (root's daemon seen from a user's shell).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
