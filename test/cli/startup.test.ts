// `stackscope stack` loads the stacker, not the daemon: each command's modules are imported only when
// that command runs (src/cli.ts). The daemon's (fastify, pino, zod) once cost every stack ~0.35 s.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-loads-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The module URLs `stackscope <args>` loads. */
async function loadsOf(name: string, args: string[]): Promise<string[]> {
  const record = join(dir, `${name}.txt`);
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './test/helpers/record-loads.mjs', 'src/cli.ts', ...args],
      { cwd: ROOT, stdio: 'ignore', env: { ...process.env, RECORD_LOADS: record }, timeout: 60_000 },
    );
    child.on('error', fail);
    child.on('close', done);
  });
  expect(code).toBe(0);
  return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
}

const daemonPackages = /\/node_modules\/(fastify|pino|zod)\//;

describe('the CLI loads only the command it runs', () => {
  it('stack: the stacker and sharp, none of the daemon', { timeout: 60_000 }, async () => {
    const loads = await loadsOf('stack', ['stack', '--help']);
    expect(loads.some((u) => u.endsWith('/src/cli/stack-command.ts'))).toBe(true);
    expect(loads.some((u) => u.includes('/node_modules/sharp/'))).toBe(true);
    expect(loads.filter((u) => daemonPackages.test(u) || u.endsWith('/src/cli/serve-command.ts'))).toEqual(
      [],
    );
  });

  it('serve: the daemon (the recorder sees what it should)', { timeout: 60_000 }, async () => {
    const loads = await loadsOf('serve', ['serve', '--help']);
    expect(loads.some((u) => u.includes('/node_modules/fastify/'))).toBe(true);
    expect(loads.some((u) => u.includes('/node_modules/zod/'))).toBe(true);
  });
});
