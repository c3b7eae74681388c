// The real CLI daemon (`stackscope serve` on the simulated rig) killed with SIGKILL mid-stack, then
// started again on the same data folder: the job is interrupted, its frames intact, and restackable.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { waitForJobHttp } from '../helpers/daemon.js';

/** Small frames; moves at a tenth of real time and 100 ms exposures, so a kill lands mid-stack. */
const ENV = {
  STACKSCOPE__rig__type: 'simulated',
  STACKSCOPE__rig__simulated__width: '160',
  STACKSCOPE__rig__simulated__height: '120',
  STACKSCOPE__rig__simulated__timeScale: '10',
  STACKSCOPE__rig__simulated__exposureMs: '1000',
  STACKSCOPE__rig__stage__settleMs: '0',
  STACKSCOPE__jobs__reserveMb: '0',
  STACKSCOPE_LOG_LEVEL: 'info',
};

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/** Starts `stackscope serve --port 0` and reads its URL from the "stackscope listening on" log line. */
function serve(dataDir: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
    { cwd: ROOT, env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line in 20 s; stderr: ${stderr}`)),
      20_000,
    );
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as { msg?: string; url?: string };
      } catch {
        return;
      }
      const match = /^stackscope listening on (\S+)/.exec(entry.msg ?? '');
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], exited });
      }
    });
  });
}

interface JobJson {
  status: string;
  note?: string;
  frames: { index: number; file: string }[];
  progress: { captured: number };
  job?: unknown;
}

async function getJson(url: string): Promise<JobJson> {
  return (await (await fetch(url)).json()) as JobJson;
}

let dataDir = '';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stackscope-kill-'));
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('kill -9 mid-stack, then restart', () => {
  it('marks the job interrupted with its frames intact, and restacks them', async () => {
    const first = await serve(dataDir);
    const created = await fetch(`${first.url}/api/stacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ frames: 20, step: 10, label: 'to be killed' }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const deadline = Date.now() + 15_000;
    while ((await getJson(`${first.url}/api/stacks/${id}`)).frames.length < 3) {
      if (Date.now() > deadline) throw new Error('the stack did not capture 3 frames in 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });

    // What the kill left on disk: a job still "running", its frames listed and whole.
    const manifestPath = join(dataDir, 'jobs', id, 'manifest.json');
    const left = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      status: string;
      frames: { index: number; file: string }[];
    };
    expect(['capturing', 'stacking']).toContain(left.status);
    expect(left.frames.length).toBeGreaterThanOrEqual(3);
    expect(left.frames.length).toBeLessThan(20);
    const bytes = new Map<number, Buffer>();
    for (const f of left.frames)
      bytes.set(f.index, await readFile(join(dataDir, 'jobs', id, 'frames', f.file)));

    // The stale rig lock of the killed process is taken over; recovery settles the job.
    const second = await serve(dataDir);
    const job = await getJson(`${second.url}/api/stacks/${id}`);
    expect(job.status).toBe('interrupted');
    expect(job.note).toContain('interrupted while');
    expect(job.frames.length).toBeGreaterThanOrEqual(left.frames.length);
    expect(job.progress.captured).toBe(job.frames.length);
    for (const f of job.frames) {
      const response = await fetch(`${second.url}/api/stacks/${id}/frames/${f.index}`);
      expect(response.status).toBe(200);
      const served = Buffer.from(await response.arrayBuffer());
      // Frames listed before the kill come back byte for byte; one written just before it is adopted whole.
      if (bytes.has(f.index)) expect(served.equals(bytes.get(f.index)!)).toBe(true);
      else expect(served.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    }
    const status = await getJson(`${second.url}/api/status`);
    expect(status.job).toBeNull();

    const restack = await fetch(`${second.url}/api/stacks/${id}/restack`, { method: 'POST' });
    expect(restack.status).toBe(202);
    const restackId = ((await restack.json()) as { id: string }).id;
    const done = await waitForJobHttp(second.url, restackId, ['done', 'failed']);
    expect(done).toMatchObject({ status: 'done', sourceJobId: id, progress: { stacked: job.frames.length } });
    const result = await fetch(`${second.url}/api/stacks/${restackId}/result.jpg`);
    expect(result.status).toBe(200);

    // A plain stop this time: SIGTERM shuts down cleanly.
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
