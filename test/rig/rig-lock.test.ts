import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockRig } from '../../src/rig/rig-lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lockRig', () => {
  it('lets one holder at a time drive the rig, and frees it on release', async () => {
    const lock = await lockRig(dir, 'daemon');
    await expect(lockRig(dir, 'jog')).rejects.toMatchObject({ code: 'RIG_BUSY' });
    await lock.release();
    const again = await lockRig(dir, 'jog');
    await again.release();
  });

  it('names a live holder in another process, and takes over from a dead one', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(
        join(dir, 'rig.lock'),
        JSON.stringify({ pid: sleeper.pid, owner: 'stackscope serve', since: 'now' }),
      );
      await expect(lockRig(dir, 'jog')).rejects.toThrow(
        `the rig is in use by stackscope serve (pid ${sleeper.pid}`,
      );
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.once('exit', r));
    }
    const lock = await lockRig(dir, 'jog');
    expect(JSON.parse(await readFile(join(dir, 'rig.lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
      owner: 'jog',
    });
    await lock.release();
  });
});
