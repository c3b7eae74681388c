// `npm run bench:daemon`: the daemon's own cost per Z step on 5 MP frames with a zero-latency simulated
// rig, and GET /api/status latency while a stack runs; writes bench/results/daemon-<date>.json (METHOD).
import * as nodeFs from 'node:fs/promises';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { buildApp } from '../src/api/app.js';
import type { Config } from '../src/config/index.js';
import { parseConfig } from '../src/config/load.js';
import { EventBus } from '../src/events.js';
import { JobManager } from '../src/jobs/manager.js';
import { openSimulatedRig } from '../src/rig/simulated/rig.js';
import type { Camera, CapturedFrame, FocusStage, Rig } from '../src/rig/types.js';
import { JobStore } from '../src/store/job-store.js';
import { setBackgroundWork } from '../src/thread-priority.js';
import { defaultFs, type StoreFs } from '../src/store/store-fs.js';

/** 5 MP, the size the target is set for; BENCH_DAEMON_SIZE=640x480 makes a quick trial run. */
const [WIDTH, HEIGHT] = (process.env.BENCH_DAEMON_SIZE ?? '2592x1944').split('x').map(Number);
const STACK = { start: 900, end: 1010, step: 10 };
const FRAMES = Math.floor((STACK.end - STACK.start) / STACK.step) + 1;
const TARGETS = { loopOwnMsPerStep: 50, statusP99Ms: 20 };
const STATUS_PAUSE_MS = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const mean = (values: number[]) => (values.length ? sum(values) / values.length : 0);

interface Span {
  start: number;
  end: number;
}
const spanMs = (s: Span) => s.end - s.start;

/** A proxy timing every call of one async method (the rest passes through, bound to the target). */
function timed<T extends object>(target: T, method: keyof T, spans: Span[]): T {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t) as unknown;
      if (typeof value !== 'function') return value;
      if (key !== method) return value.bind(t);
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return (await value.apply(t, args)) as unknown;
        } finally {
          spans.push({ start, end: performance.now() });
        }
      };
    },
  });
}

interface StoreStats {
  fsyncs: number;
  fsyncMs: number;
  /** Durable replacements (manifest writes): files opened 'wx' under a temp name. */
  durableWrites: number;
}

/** The store's file system, counting its fsyncs (and their time) and its durable writes. */
function countingFs(stats: StoreStats): StoreFs {
  const open = async (...args: Parameters<typeof nodeFs.open>) => {
    if (args[1] === 'wx') stats.durableWrites++;
    const handle = await nodeFs.open(...args);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      const start = performance.now();
      await sync();
      stats.fsyncs++;
      stats.fsyncMs += performance.now() - start;
    };
    return handle;
  };
  return { ...defaultFs, open: open as StoreFs['open'] };
}

/** A zero-latency camera: each capture copies the next pre-rendered frame into place. */
class ReplayCamera implements Camera {
  readonly description = 'replay of pre-rendered simulated frames';
  private next = 0;
  constructor(private readonly frames: string[]) {}
  async open(): Promise<void> {
    this.next = 0;
  }
  async capture(file: string): Promise<CapturedFrame> {
    const started = performance.now();
    await copyFile(this.frames[this.next++ % this.frames.length], file);
    return { file, durationMs: performance.now() - started, exposure: { shutterUs: 10000, analogueGain: 1 } };
  }
  async close(): Promise<void> {}
}

interface StatusSample {
  /** performance.timeOrigin-based start of the request, ms. */
  at: number;
  ms: number;
}

/** GET /api/status in a loop from a worker thread (its own event loop, as a laptop would be). */
function startStatusLoop(url: string): { stop(): Promise<StatusSample[]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const http = require('node:http');
     const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
     let stopping = false;
     parentPort.on('message', () => (stopping = true));
     const once = (t0 = performance.now()) => new Promise((resolve, reject) =>
       http.get(workerData.url + '/api/status', { agent }, (res) => res.resume().on('end', () =>
         resolve({ at: performance.timeOrigin + t0, ms: performance.now() - t0 }))).on('error', reject));
     (async (latencies = []) => {
       while (!stopping) {
         latencies.push(await once());
         await new Promise((r) => setTimeout(r, workerData.pauseMs));
       }
       agent.destroy();
       parentPort.postMessage(latencies);
     })();`,
    { eval: true, workerData: { url, pauseMs: STATUS_PAUSE_MS } },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        worker.once(
          'message',
          (samples: StatusSample[]) => void worker.terminate().then(() => resolve(samples)),
        );
        worker.postMessage('stop');
      }),
  };
}

/** The daemon's parts as startDaemon wires them (store, job manager, API), around a given rig. */
async function runStack(config: Config, rig: Rig, label: string) {
  const captures: Span[] = [];
  const moves: Span[] = [];
  const timedRig: Rig = {
    ...rig,
    kind: rig.kind,
    stage: timed<FocusStage>(rig.stage, 'moveTo', moves),
    camera: timed<Camera>(rig.camera, 'capture', captures),
  };
  const storeStats: StoreStats = { fsyncs: 0, fsyncMs: 0, durableWrites: 0 };
  const store = await JobStore.open({ dataDir: config.dataDir, fs: countingFs(storeStats) });
  const loadBefore = loadavg()[0];
  const bus = new EventBus();
  const jobs = new JobManager({ rig: timedRig, store, bus, config });
  jobs.start();
  const app = await buildApp({ config, rig: timedRig, jobs, store, bus, version: 'bench' });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const status = startStatusLoop(url);
    await new Promise((r) => setTimeout(r, 200));
    // How long the daemon's own thread held its event loop while the job ran: what a slow status answer
    // owes to this thread, as against waiting for a core (2 cores, the stacking threads, the client's).
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const posted = performance.now();
    const response = await fetch(`${url}/api/stacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...STACK, label }),
    });
    if (response.status !== 202)
      throw new Error(`POST /api/stacks: ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    await jobs.idle();
    const wallMs = performance.now() - posted;
    loopDelay.disable();
    const mainLoopDelayMs = {
      p50: round(loopDelay.percentile(50) / 1e6, 2),
      p99: round(loopDelay.percentile(99) / 1e6, 2),
      max: round(loopDelay.max / 1e6, 2),
    };
    const samples = await status.stop();
    // Only requests made while the job ran (POST to done), not the lead-in before it; their start
    // times brought onto this thread's clock, like the captures'.
    const latencies = samples
      .map((s) => ({ at: s.at - performance.timeOrigin, ms: s.ms }))
      .filter((s) => s.at >= posted && s.at <= posted + wallMs);
    const job = await store.get(id);
    if (job.status !== 'done')
      throw new Error(`${label} job ended ${job.status}: ${JSON.stringify(job.error)}`);
    const load = { before: round(loadBefore, 2), after: round(loadavg()[0], 2) };
    return {
      posted,
      wallMs,
      captures,
      moves,
      timings: job.timings,
      latencies,
      storeStats,
      load,
      mainLoopDelayMs,
    };
  } finally {
    await jobs.shutdown();
    await app.close();
  }
}

type RunResult = Awaited<ReturnType<typeof runStack>>;

function report(run: RunResult, isolatedCameraMs?: number[]) {
  const { posted, wallMs, captures, moves, timings, latencies, storeStats, load, mainLoopDelayMs } = run;
  const lastCaptureEnd = captures[FRAMES - 1].end;
  const statusOf = (samples: StatusSample[]) => {
    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    const percentile = (p: number) => round(sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? NaN, 2);
    return {
      requests: sorted.length,
      p50Ms: percentile(50),
      p90Ms: percentile(90),
      p99Ms: percentile(99),
      maxMs: percentile(100),
    };
  };
  const cameraMs = sum(captures.map(spanMs));
  // Steady state: from the first capture's end to the last's, each step is bookkeeping + wait + move + capture.
  const loopMs = captures[FRAMES - 1].end - captures[0].end;
  const stepMs = loopMs / (FRAMES - 1);
  const loopMoves = moves.filter((m) => m.start >= captures[0].end && m.end <= captures[FRAMES - 1].start);
  const cameraStepMs = mean(captures.slice(1).map(spanMs));
  const moveStepMs = sum(loopMoves.map(spanMs)) / (FRAMES - 1);
  const stackWaitMs = timings.stackWaitMsMean ?? 0;
  const moveMs = sum(moves.map(spanMs));
  return {
    wallMs: round(wallMs),
    cameraMsTotal: round(cameraMs),
    /** With a zero-time motor, all of it is the stage driver saving its position (one durable write per move). */
    moveMsTotal: round(moveMs),
    /**
     * The figure: per Z step in steady state (steps 2…N), the capture loop's own time, i.e. its
     * wall time per step less its awaits of the move + settle, the camera and the stacker (the
     * capture loop's own timing, written into the job's manifest). See METHOD.
     */
    loopOwnMsPerStep: { mean: round(timings.loopOwnMsMean ?? NaN), max: round(timings.loopOwnMsMax ?? NaN) },
    /** Part of the loop's own time: waiting after the move for the record of the frame two back to land. */
    recordWaitMsPerStep: round(timings.recordWaitMsMean ?? NaN),
    /** The formula: (job wall time − Σ camera time) / frames. */
    overheadMsPerStep: round((wallMs - cameraMs) / FRAMES),
    /** Same, the stage driver's moves not counted (the target is "beyond move, settle and exposure"). */
    overheadMsPerStepBeyondMoves: round((wallMs - cameraMs - moveMs) / FRAMES),
    ...(isolatedCameraMs && {
      /** The formula with the camera timed alone: its slowdown under the stacker's load is charged to the daemon. */
      overheadMsPerStepStrict: round((wallMs - sum(isolatedCameraMs)) / FRAMES),
    }),
    steadyStep: {
      totalMs: round(stepMs),
      cameraMs: round(cameraStepMs),
      moveMs: round(moveStepMs),
      stackWaitMs: round(stackWaitMs),
      /** The capture loop's own time seen from outside: checks, handing records over, progress, events. */
      bookkeepingMs: round(stepMs - cameraStepMs - moveStepMs - stackWaitMs),
    },
    /** POST to the first capture: request, job folder, queue, camera open, first move. */
    headMs: round(captures[0].start - posted),
    /** Last capture to done: its stacking, finish, encode of the results, return move, final writes. */
    tail: {
      totalMs: round(posted + wallMs - captures[FRAMES - 1].end),
      finishMs: round(timings.finishMs ?? 0),
      encodeMs: round(timings.encodeMs ?? 0),
    },
    /** The job store's durability work, per frame (the frame's own fsync and the manifest writes). */
    storePerFrame: {
      fsyncs: round(storeStats.fsyncs / FRAMES),
      fsyncMs: round(storeStats.fsyncMs / FRAMES),
      manifestWrites: round(storeStats.durableWrites / FRAMES),
    },
    loadavg1m: load,
    /** While the job ran: POST to done (the target's figure). */
    status: statusOf(latencies),
    /** The daemon thread's event-loop delay while the job ran (perf_hooks, 1 ms resolution). */
    mainLoopDelayMs,
    /** The same requests split: POST to the last capture's end, then the tail (last merge, finish, encode). */
    statusCapturing: statusOf(latencies.filter((l) => l.at <= lastCaptureEnd)),
    statusTail: statusOf(latencies.filter((l) => l.at > lastCaptureEnd)),
  };
}

async function main(): Promise<void> {
  // As startDaemon does: stacking threads yield to the API thread.
  setBackgroundWork(true);
  const dir = await mkdtemp(join(tmpdir(), 'stackscope-bench-daemon-'));
  try {
    const config = parseConfig({
      dataDir: dir,
      rig: {
        type: 'simulated',
        stage: { settleMs: 0 },
        simulated: { width: WIDTH, height: HEIGHT, exposureMs: 0, timeScale: 1e6 },
      },
      server: { host: '127.0.0.1', port: 0 },
      jobs: {
        reserveMb: 0,
        ...(process.env.BENCH_DAEMON_ALIGN ? { align: process.env.BENCH_DAEMON_ALIGN } : {}),
      },
    });
    const rig = await openSimulatedRig(config.rig, { stateDir: join(dir, 'state') });
    const planes = Array.from({ length: FRAMES }, (_, i) => STACK.start + i * STACK.step);
    const calibration = join(dir, 'calibration');
    await mkdir(calibration);
    log(
      `calibrating the simulated camera: ${FRAMES} planes at ${WIDTH}×${HEIGHT}, warm-up pass then timed pass`,
    );
    await rig.camera.open({ encoding: 'jpg', quality: config.rig.camera.quality, denoise: 'cdn_off' });
    const isolatedCameraMs: number[] = [];
    const replayFiles: string[] = [];
    for (const pass of [0, 1])
      for (const [i, um] of planes.entries()) {
        await rig.stage.moveTo(um);
        const file = join(calibration, `frame-${pass}-${i}.jpg`);
        const t0 = performance.now();
        await rig.camera.capture(file);
        if (pass === 1) {
          isolatedCameraMs.push(performance.now() - t0);
          replayFiles.push(file);
        }
      }
    await rig.camera.close();
    await rig.stage.moveTo(950);
    log(`simulated camera alone: ${round(mean(isolatedCameraMs))} ms per frame`);

    log('run "simulated": the job on the simulated rig as is');
    const simulated = await runStack(config, rig, 'simulated');
    log(`  wall ${round(simulated.wallMs)} ms`);
    log('run "replay": the same job, the camera replaying the calibration frames');
    const replay = await runStack(
      config,
      { ...rig, kind: rig.kind, camera: new ReplayCamera(replayFiles) },
      'replay',
    );
    log(`  wall ${round(replay.wallMs)} ms`);
    await rig.close();

    const results = {
      simulated: report(simulated, isolatedCameraMs),
      replay: report(replay),
    };
    const record = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg: loadavg() },
      frames: { width: WIDTH, height: HEIGHT, count: FRAMES, quality: config.rig.camera.quality },
      stack: { ...STACK, method: config.jobs.method, measure: config.jobs.measure, align: config.jobs.align },
      rig: { timeScale: 1e6, exposureMs: 0, settleMs: 0 },
      simulatedCameraAloneMs: { mean: round(mean(isolatedCameraMs)), total: round(sum(isolatedCameraMs)) },
      results,
      targets: TARGETS,
      method: METHOD,
    };
    const name = `daemon-${record.date.replace(/[:.]/g, '-')}`;
    await mkdir(join('bench', 'results'), { recursive: true });
    await writeFile(join('bench', 'results', `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    log(`written bench/results/${name}.json`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How the figures are made; written into the result. */
const METHOD = [
  'calibrate: the simulated camera renders every plane twice (a warm-up pass, then a pass timed alone); run "simulated": the job on the simulated rig as is; run "replay": the same job, the camera replaying the calibration frames. Both runs time every capture and move from outside the job (a wrapped rig) and count the job store\'s fsyncs.',
  'One stack of FRAMES planes at 5 MP through the daemon (job manager, store, HTTP API) on a simulated rig with zero move, settle and exposure time.',
  "THE TARGET (issue 5, \"the daemon's own overhead per Z step beyond move, settle and exposure time\"): loopOwnMsPerStep, from the replay run. The capture loop (src/jobs/capture-stack.ts) times each step from its top to the top of the next, and subtracts the time it spent awaiting stage.moveTo plus the settle sleep (moveMs), camera.capture (captureMs) and the stacker taking the previous frame (stackWaitMs, stacking throughput being the stacker's own bench, issue 2). INCLUDED: the cancel and record-failure checks, waiting after the move for the manifest record of the frame two back to land, the part of its write the move and the previous capture did not hide (recordWaitMsPerStep, also shown alone), the disk-space check (statfs), handing the frame's record to the store, progress events, starting the merge of the frame, and any delay of the loop's continuations by other work on the main thread (API requests, the store's JSON and zod work, the stacker's main-thread parts). NOT INCLUDED: the move's own cost, which with a zero-time motor is the stage writing its durable \"moving\" record (see moveMsTotal), the camera, waiting for the stacker, the first step (no merge to overlap with; steady state is steps 2…N), and the head and the tail of the job (camera open, finish, encode, results). Mean and max over the steady steps; written by the job into its manifest timings (loopOwnMsMean, loopOwnMsMax).",
  'wallMs: POST /api/stacks to the job being done. cameraMsTotal: every camera.capture call, timed from outside the job.',
  'overheadMsPerStep = (wallMs − cameraMsTotal) / frames, kept so nothing is hidden: it also counts the moves (durable position writes), the stacking not hidden by the camera (in "replay", all of it), the first move, the last stack, finish and encode of the results, spread over the frames. overheadMsPerStepBeyondMoves also leaves out the moves.',
  'simulated: the simulated camera renders on a worker thread at lowered priority (~0.5 s of JavaScript per 5 MP frame) and the stacking of frame k overlaps it; the render is slowed by the stacker sharing the CPU, so overheadMsPerStepStrict subtracts the render time measured alone instead.',
  "replay: the camera copies pre-rendered frames (a camera costing nothing), so the loop runs as fast as the stacker: steadyStep.stackWaitMs is stacking not hidden by any hardware time, and steadyStep.bookkeepingMs is the same loop-own time as loopOwnMsPerStep seen from outside the job (steady step wall time between capture ends, less the wrapped camera, the wrapped moves and the job's mean stack wait).",
  "storePerFrame: the job store's fsyncs and manifest writes over the whole job, per frame (frame fsync, frames-folder fsync, manifest temp-file and folder fsyncs; records queued behind a write share the next one). The stage's own position writes are not counted here (they are in moveMsTotal).",
  "status: GET /api/status in a loop (10 ms pause) from a worker thread; only requests started between the POST and the job being done count (the target's figure). statusCapturing and statusTail split the same requests at the last capture's end: the tail holds the last merge, finish and the encoding of the results (src/stack).",
  "mainLoopDelayMs: the daemon thread's event-loop delay over the same span (perf_hooks monitorEventLoopDelay, 1 ms resolution): how long that thread held its loop, as against a request waiting for a core.",
  'loadavg1m: the 1-minute load average before and after each run; the machine is shared, so figures move with it.',
];

main().catch((error: unknown) => {
  log((error as Error).stack ?? String(error));
  process.exitCode = 1;
});
