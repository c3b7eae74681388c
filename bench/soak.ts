// `npm run soak [-- --duration-s 600 --seed 7 --keep-data]`: the real daemon on the simulated rig, fed
// jobs and kill -9'd at seeded moments (capture, stacking, result writing, idle, a restack), restarted on
// the same data folder and checked each time; camera and disk faults in between. bench/results/soak-<date>.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/rig/simulated/prng.js';
import type { Manifest } from '../src/store/manifest.js';
import { runFault } from './soak-faults.js';
import { BASE_ENV, DaemonProcess, JobWatch, getJson, postJson, ROOT, waitForStatus } from './soak-daemon.js';
import {
  emptyReport,
  int,
  summaryLines,
  type FaultKind,
  type KillTarget,
  type SoakContext,
} from './soak-report.js';
import { DiskVerifier, isUnfinished, type FrameSnapshot } from './soak-verify.js';

const { values: args } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '180' },
    seed: { type: 'string', default: '1' },
    'keep-data': { type: 'boolean', default: false },
  },
});
const DURATION_S = Number(args['duration-s']);
const SEED = Number(args.seed);
const TARGETS: KillTarget[] = ['capture', 'stacking', 'writing', 'idle', 'restacking'];
const FAULTS: FaultKind[] = ['camera-crash', 'corrupt-frame', 'disk-full-submit', 'disk-full-mid-job'];
const MOMENT_TIMEOUT_MS = 60_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

const rng = mulberry32(SEED);
const report = emptyReport(SEED, DURATION_S, BASE_ENV);
const dataDir = await mkdtemp(join(tmpdir(), 'stackscope-soak-'));
const verifier = new DiskVerifier(dataDir);
const startTimes: number[] = [];
const seenManifests = new Set<string>();
const reportedTemps = new Set<string>();
/** Interrupted jobs already restacked (or refused as too short): each is handled once. */
const handled = new Set<string>();
/** Finished capture jobs with 2 or more frames: what a 'restacking' kill restacks. */
let restackable: string[] = [];
let daemon!: DaemonProcess;

function fail(message: string): void {
  report.failures.push(message);
  log(`FAILURE: ${message}`);
}

async function start(env: Record<string, string> = {}): Promise<void> {
  const t0 = performance.now();
  daemon = await DaemonProcess.start(dataDir, { ...BASE_ENV, ...env });
  startTimes.push(performance.now() - t0);
  report.daemonStarts++;
}

/** Unexpected errors in a daemon's log: unhandled (a 5xx INTERNAL) or fatal. Expected ones are job failures. */
function checkLog(d: DaemonProcess): void {
  for (const entry of d.errors.splice(0))
    if (entry.msg === 'unhandled error' || (entry.level ?? 0) >= 60)
      fail(`daemon logged: ${entry.msg} ${JSON.stringify(entry.err ?? '').slice(0, 300)}`);
}

async function restart(how: 'kill' | 'term', env: Record<string, string> = {}): Promise<void> {
  const old = daemon;
  if (how === 'term') {
    report.cleanStops.total++;
    if ((await old.stop()) === 0) report.cleanStops.exitCode0++;
    else fail('the daemon did not exit 0 on SIGTERM');
  } else await old.kill();
  checkLog(old);
  await start(env);
  await verifyDisk(new Map());
}

async function submit(request: Record<string, unknown>): Promise<string | null> {
  const response = await postJson<{ id?: string; error?: string }>(`${daemon.url}/api/stacks`, request);
  if (response.status !== 202 || !response.body.id) {
    fail(
      `POST /api/stacks ${JSON.stringify(request)} answered ${response.status} ${String(response.body.error)}`,
    );
    return null;
  }
  report.jobsStarted++;
  return response.body.id;
}

async function restack(id: string): Promise<boolean> {
  const response = await postJson<{ id?: string; error?: string }>(`${daemon.url}/api/stacks/${id}/restack`);
  if (response.status !== 202 || !response.body.id) {
    fail(`restack of ${id} answered ${response.status} ${String(response.body.error)}`);
    return false;
  }
  const job = await waitForStatus(daemon.url, response.body.id, [
    'done',
    'failed',
    'cancelled',
    'interrupted',
  ]);
  if (job?.status !== 'done') {
    fail(
      `restack ${response.body.id} of ${id} ended ${String(job?.status)}: ${JSON.stringify(job?.error ?? '')}`,
    );
    return false;
  }
  const result = await fetch(`${daemon.url}/api/stacks/${response.body.id}/result.jpg`);
  await result.arrayBuffer();
  if (result.status !== 200) fail(`restack ${response.body.id}: result.jpg answered ${result.status}`);
  return result.status === 200;
}

/** Every manifest and listed frame on disk, counted; `when` names the moment in failures. */
async function checkDisk(when: string) {
  const disk = await verifier.check();
  report.manifests.checks += disk.manifests;
  report.frames.checks += disk.frames;
  report.frames.decodedWhole += disk.decoded;
  report.results.checks += disk.results;
  for (const id of disk.jobs.keys()) seenManifests.add(id);
  for (const problem of disk.problems) fail(`${when}: ${problem}`);
  return disk;
}

/** After a (re)start: the disk is whole, recovery settled every job, kept frames survived, restacks. */
async function verifyDisk(snapshots: Map<string, FrameSnapshot>): Promise<void> {
  const disk = await checkDisk('after the restart');
  for (const temp of disk.temps.filter((t) => !reportedTemps.has(t))) {
    reportedTemps.add(temp);
    fail(`recovery left an unfinished write behind: ${temp}`);
  }
  const running = (await getJson<{ job: { id: string } | null }>(`${daemon.url}/api/status`)).body.job;
  for (const m of disk.jobs.values())
    if (isUnfinished(m) && m.id !== running?.id) fail(`job ${m.id} is still ${m.status} after recovery`);
  for (const [id, before] of snapshots) {
    for (const problem of await verifier.compare(id, before, disk.jobs.get(id))) fail(problem);
    report.frames.keptAcrossKills += before.size;
  }
  restackable = [...disk.jobs.values()]
    .filter((m) => m.kind === 'capture' && m.frames.length >= 2 && !isUnfinished(m) && !m.framesDeleted)
    .map((m) => m.id);
  for (const m of disk.jobs.values()) if (m.status === 'interrupted' && !handled.has(m.id)) await settle(m);
}

/** An interrupted job is restacked (a restack job: its source again); one with too few frames is refused. */
async function settle(m: Manifest): Promise<void> {
  handled.add(m.id);
  report.interrupted.total++;
  const source = m.kind === 'restack' && m.sourceJobId ? m.sourceJobId : m.id;
  const frames = m.kind === 'restack' ? 2 : m.frames.length;
  if (frames >= 2) {
    if (await restack(source)) report.interrupted.restackedOk++;
    return;
  }
  const refused = await postJson<{ error?: string }>(`${daemon.url}/api/stacks/${m.id}/restack`);
  if (refused.status === 404 && refused.body.error === 'NOT_FOUND')
    report.interrupted.tooFewFramesRefused404++;
  else
    fail(
      `restack of ${m.id} (${m.frames.length} frames) answered ${refused.status} ${String(refused.body.error)}`,
    );
}

async function killCycle(target: KillTarget): Promise<void> {
  const events = await new JobWatch().open(daemon.url);
  let id: string | null;
  const frames = int(rng, 6, 16);
  if (target === 'restacking' && restackable.length > 0) {
    const source = restackable[int(rng, 0, restackable.length - 1)];
    const response = await postJson<{ id?: string }>(`${daemon.url}/api/stacks/${source}/restack`, {
      stack: { method: rng() < 0.5 ? 'pyramid' : 'depthmap' },
    });
    id = response.body.id ?? null;
  } else {
    const method = rng() < 0.5 ? 'pyramid' : 'depthmap';
    id = await submit({ frames, step: 5, stack: { method }, label: `soak ${target}` });
    // Sometimes a job waits in the queue behind it: the kill interrupts that one before it starts.
    if (rng() < 0.3) await submit({ frames: 4, step: 5, label: 'soak queued' });
  }
  if (!id) return events.close();
  const k = int(rng, 1, frames - 2);
  const reached = await events.until(id, MOMENT_TIMEOUT_MS, (e) => {
    const p = e.progress;
    switch (target) {
      case 'capture':
        return (p?.captured ?? 0) >= k && e.status === 'capturing';
      case 'stacking':
        return e.status === 'stacking';
      case 'writing':
        return p !== undefined && p.total > 0 && p.stacked === p.total;
      case 'idle':
        return e.status === 'done' || e.status === 'failed';
      case 'restacking':
        return e.status === 'stacking' && (p?.stacked ?? 0) >= 1;
    }
  });
  const delay = { capture: 150, stacking: 40, writing: 30, idle: 400, restacking: 100 }[target];
  await new Promise((r) => setTimeout(r, int(rng, target === 'idle' ? 50 : 0, delay)));
  events.close();
  await daemon.kill();
  checkLog(daemon);
  report.kills.total++;
  report.kills.byTarget[target] = (report.kills.byTarget[target] ?? 0) + 1;
  if (!reached) report.kills.timedOut++;
  const found = await verifier.statusOnDisk(id);
  const label =
    found.status === 'stacking' && found.resultFiles > 0 ? 'stacking (writing results)' : found.status;
  report.kills.byStatusFound[label] = (report.kills.byStatusFound[label] ?? 0) + 1;
  const snapshots = new Map<string, FrameSnapshot>();
  // Right after the kill, before any recovery: what is listed must already be whole.
  for (const m of (await checkDisk('right after the kill')).jobs.values())
    if (isUnfinished(m)) snapshots.set(m.id, await verifier.snapshot(m.id));
  log(`kill ${report.kills.total} (${target}): job ${id} found ${label}`);
  await start();
  await verifyDisk(snapshots);
}

const ctx: SoakContext = {
  report,
  verifier,
  dataDir,
  rng,
  daemon: () => daemon,
  restart,
  submit,
  restack,
  fail,
};

const began = Date.now();
log(`soak: ${DURATION_S} s, seed ${SEED}, data in ${dataDir}`);
try {
  await start();
  await verifyDisk(new Map());
  const order = [...TARGETS];
  for (let cycle = 0; Date.now() - began < DURATION_S * 1000; cycle++) {
    // Faults come between kills: one in three cycles, each kind in turn, the first ones early.
    if (cycle % 3 === 1) {
      const kind = FAULTS[Math.floor(cycle / 3) % FAULTS.length];
      log(`fault: ${kind}`);
      await runFault(ctx, kind);
      continue;
    }
    if (order.length === 0) order.push(...TARGETS);
    await killCycle(order.splice(int(rng, 0, order.length - 1), 1)[0]);
  }
  await daemon.kill().then(() => checkLog(daemon));
  report.kills.total++;
  report.kills.byTarget.idle = (report.kills.byTarget.idle ?? 0) + 1;
  await start();
  await verifyDisk(new Map());
  report.cleanStops.total++;
  if ((await daemon.stop()) === 0) report.cleanStops.exitCode0++;
  else fail('the daemon did not exit 0 on the final SIGTERM');
} catch (error) {
  fail(`soak aborted: ${(error as Error).stack ?? String(error)}`);
  if (daemon) await daemon.kill();
} finally {
  report.elapsedS = Math.round((Date.now() - began) / 1000);
  report.machine = {
    cpus: cpus().length,
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  report.startMs = {
    mean: Math.round(startTimes.reduce((a, b) => a + b, 0) / Math.max(1, startTimes.length)),
    max: Math.round(Math.max(0, ...startTimes)),
  };
  report.manifests.distinct = seenManifests.size;
  report.failureCount = report.failures.length;
  const file = join(ROOT, 'bench', 'results', `soak-${report.date.replace(/[:.]/g, '-')}.json`);
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  if (!args['keep-data']) await rm(dataDir, { recursive: true, force: true });
  log(summaryLines(report, file).join('\n'));
  process.exitCode = report.failureCount === 0 ? 0 : 1;
}
