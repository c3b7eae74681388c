// The faults the soak run injects between kills, each on a daemon restarted with the fault configured:
// a camera crash mid-stack, a frame delivered cut short, a disk too full to start, a disk filling mid-job.
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { getJson, postJson, waitForStatus } from './soak-daemon.js';
import { int, type FaultKind, type SoakContext } from './soak-report.js';

const FAULT_ENV = 'STACKSCOPE__rig__simulated__faults__';

/** Runs one fault on a daemon configured for it, checks the outcome, and restarts it clean. */
export async function runFault(ctx: SoakContext, kind: FaultKind): Promise<void> {
  const figures = ctx.report.faults[kind];
  figures.injected++;
  switch (kind) {
    case 'camera-crash':
    case 'corrupt-frame':
      await cameraFault(ctx, kind);
      break;
    case 'disk-full-submit':
      await diskFullAtSubmit(ctx);
      break;
    case 'disk-full-mid-job':
      await diskFillingMidJob(ctx);
      break;
  }
  await ctx.restart('term');
}

/** The Nth capture of the restarted daemon crashes, or comes out truncated; N falls mid-stack. */
async function cameraFault(ctx: SoakContext, kind: 'camera-crash' | 'corrupt-frame'): Promise<void> {
  const figures = ctx.report.faults[kind];
  const nth = int(ctx.rng, 3, 6);
  const key = kind === 'camera-crash' ? 'crashEvery' : 'corruptFrameEvery';
  await ctx.restart('term', { [`${FAULT_ENV}${key}`]: String(nth) });
  const id = await ctx.submit({ frames: 10, step: 5, label: `soak ${kind}` });
  if (!id) return;
  const job = await waitForStatus(ctx.daemon().url, id, ['done', 'failed', 'cancelled', 'interrupted']);
  const expected = kind === 'camera-crash' ? 'CAMERA_FAILED' : 'INPUT_UNREADABLE';
  const error = job?.error as { code?: string } | undefined;
  const frames = (job?.frames as unknown[] | undefined)?.length ?? -1;
  if (job?.status !== 'failed' || error?.code !== expected || frames !== nth - 1) {
    ctx.fail(
      `${kind} at capture ${nth}: job ${id} ended ${String(job?.status)} (${error?.code ?? 'no error'}) with ${frames} frames; expected failed ${expected} with ${nth - 1}`,
    );
    return;
  }
  figures.handled++;
  // The frames before the fault are whole (the next restart's disk check decodes them) and restack.
  if (await ctx.restack(id)) figures.restackedOk++;
}

/** A reserve above the free space: the job is refused up front (507) and nothing is created. */
async function diskFullAtSubmit(ctx: SoakContext): Promise<void> {
  const figures = ctx.report.faults['disk-full-submit'];
  const freeMb = await freeMegabytes(ctx.dataDir);
  await ctx.restart('term', { STACKSCOPE__jobs__reserveMb: String(Math.ceil(freeMb) + 1000) });
  const url = ctx.daemon().url;
  const before = (await getJson<{ jobs: unknown[] }>(`${url}/api/stacks?limit=100`)).body.jobs.length;
  const response = await postJson<{ error?: string }>(`${url}/api/stacks`, { frames: 6, step: 5 });
  const after = (await getJson<{ jobs: unknown[] }>(`${url}/api/stacks?limit=100`)).body.jobs.length;
  if (response.status === 507 && response.body.error === 'DISK_FULL' && after === before) figures.handled++;
  else
    ctx.fail(
      `disk-full-submit: answered ${response.status} ${String(response.body.error)}, jobs ${before} → ${after}`,
    );
}

/**
 * The disk fills while a stack runs: the reserve is set just below the free space, then, a few frames
 * in, a 100 MB file is written next to the jobs. The next frame is refused (DISK_FULL), the job stops
 * with its frames whole. Other processes on the machine may free space meanwhile: then it is counted
 * as not triggered rather than as a failure.
 */
async function diskFillingMidJob(ctx: SoakContext): Promise<void> {
  const figures = ctx.report.faults['disk-full-mid-job'];
  const freeMb = await freeMegabytes(ctx.dataDir);
  await ctx.restart('term', { STACKSCOPE__jobs__reserveMb: String(Math.floor(freeMb) - 40) });
  const id = await ctx.submit({ frames: 16, step: 5, label: 'soak disk filling' });
  if (!id) return;
  const url = ctx.daemon().url;
  const filler = join(ctx.dataDir, 'filler.bin');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { body } = await getJson<{ frames: unknown[]; status: string }>(`${url}/api/stacks/${id}`);
    if (body.frames.length >= 3 || !['queued', 'capturing'].includes(body.status)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await writeFiller(filler, 100);
  const job = await waitForStatus(url, id, ['done', 'failed', 'cancelled', 'interrupted']);
  await rm(filler, { force: true });
  const error = job?.error as { code?: string } | undefined;
  if (job?.status === 'failed' && error?.code === 'DISK_FULL') {
    figures.handled++;
    if (await ctx.restack(id)) figures.restackedOk++;
  } else if (job?.status === 'done') figures.notTriggered++;
  else ctx.fail(`disk-full-mid-job: job ${id} ended ${String(job?.status)} (${error?.code ?? 'no error'})`);
}

async function freeMegabytes(dir: string): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return (Number(bavail) * Number(bsize)) / 1e6;
}

/** Writes `mb` MB of zeros and syncs them, so the file system counts the blocks as taken. */
async function writeFiller(path: string, mb: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(1e6);
    for (let i = 0; i < mb; i++) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
