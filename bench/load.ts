// `npm run bench:load [-- --clients 20 --duration-s 30]`: concurrent clients on loopback, each from its
// own 127.0.0.x address, polling /api/status and downloading byte ranges of a result while stacks run on
// the real daemon; throughput and latency percentiles per route in bench/results/load-<date>.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/rig/simulated/prng.js';
import { BASE_ENV, DaemonProcess, getJson, postJson, ROOT, waitForStatus } from './soak-daemon.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '20' },
    'duration-s': { type: 'string', default: '30' },
    /** Result downloads per second per client: under the limiter's 600 a minute per address. */
    'downloads-per-s': { type: 'string', default: '5' },
  },
});
const CLIENTS = Number(args.clients);
const DURATION_MS = Number(args['duration-s']) * 1000;
const DOWNLOAD_INTERVAL_MS = 1000 / Number(args['downloads-per-s']);
const RANGE_BYTES = 64 * 1024;
const STACK = { frames: 12, step: 5, keepFrames: false, label: 'load' };
/** Larger frames than the soak's: the stack competes for the CPU for real. */
const ENV = {
  ...BASE_ENV,
  STACKSCOPE__rig__simulated__width: '1024',
  STACKSCOPE__rig__simulated__height: '768',
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

interface Sample {
  ms: number;
  status: number;
  bytes: number;
}

interface Fetched {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

function fetchWith(agent: Agent, localAddress: string, url: string, headers: Record<string, string> = {}) {
  return new Promise<Fetched>((resolve, reject) => {
    const req = request(url, { agent, localAddress, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(samples: Sample[], seconds: number) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    requests: samples.length,
    perSecond: round(samples.length / seconds, 1),
    mbPerSecond: round(samples.reduce((a, s) => a + s.bytes, 0) / 1e6 / seconds),
    statuses,
    latencyMs: {
      p50: round(percentile(ms, 50)),
      p90: round(percentile(ms, 90)),
      p99: round(percentile(ms, 99)),
      max: round(ms[ms.length - 1] ?? 0),
    },
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'stackscope-load-'));
let daemon: DaemonProcess | undefined;
try {
  daemon = await DaemonProcess.start(dataDir, ENV);
  const url = daemon.url;
  log(`load: ${CLIENTS} clients for ${DURATION_MS / 1000} s against ${url}`);
  // A finished stack to download from; its time alone is the baseline for the stacks under load.
  const first = await postJson<{ id: string }>(`${url}/api/stacks`, STACK);
  const baseline = await waitForStatus(url, first.body.id, ['done', 'failed']);
  if (baseline?.status !== 'done') throw new Error(`the first stack ended ${String(baseline?.status)}`);
  const resultUrl = `${url}/api/stacks/${first.body.id}/result.jpg`;
  const whole = Buffer.from(await (await fetch(resultUrl)).arrayBuffer());

  const stacked: string[] = [];
  let stop = false;
  // The rig is kept busy: one stack running and one queued behind it, all through the run.
  const feeder = (async () => {
    while (!stop) {
      const { body } = await getJson<{ job: unknown; queued: number }>(`${url}/api/status`);
      if (body.queued === 0)
        stacked.push((await postJson<{ id: string }>(`${url}/api/stacks`, STACK)).body.id);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await new Promise((r) => setTimeout(r, 500));

  const status: Sample[] = [];
  const downloads: Sample[] = [];
  const wrongBytes: string[] = [];
  const errors: string[] = [];
  const rng = mulberry32(42);
  const began = performance.now();
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Its own source address: the rate limiter counts per client address, as for laptops on a LAN.
    const localAddress = `127.0.0.${10 + i}`;
    let nextDownload = performance.now() + rng() * DOWNLOAD_INTERVAL_MS;
    while (performance.now() - began < DURATION_MS) {
      try {
        if (performance.now() >= nextDownload) {
          nextDownload += DOWNLOAD_INTERVAL_MS;
          const start = Math.floor(rng() * Math.max(1, whole.length - RANGE_BYTES));
          const end = Math.min(whole.length, start + RANGE_BYTES) - 1;
          const t0 = performance.now();
          const r = await fetchWith(agent, localAddress, resultUrl, { range: `bytes=${start}-${end}` });
          downloads.push({ ms: performance.now() - t0, status: r.status, bytes: r.body.length });
          if (r.status === 206 && !r.body.equals(whole.subarray(start, end + 1)))
            wrongBytes.push(`bytes=${start}-${end}: ${r.body.length} bytes differ`);
        } else {
          const t0 = performance.now();
          const r = await fetchWith(agent, localAddress, `${url}/api/status`);
          status.push({ ms: performance.now() - t0, status: r.status, bytes: r.body.length });
        }
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    agent.destroy();
  });
  await Promise.all(clients);
  const seconds = (performance.now() - began) / 1000;
  stop = true;
  await feeder;

  const jobs = await Promise.all(
    stacked.map(async (id) => (await getJson<Record<string, unknown>>(`${url}/api/stacks/${id}`)).body),
  );
  const done = jobs.filter((j) => j.status === 'done');
  const totalMs = (j: Record<string, unknown>) => Number((j.timings as { totalMs?: number }).totalMs ?? 0);
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavg: loadavg().map((l) => round(l)) },
    clients: CLIENTS,
    durationS: round(seconds, 1),
    downloadsPerClientPerS: Number(args['downloads-per-s']),
    rangeBytes: RANGE_BYTES,
    resultBytes: whole.length,
    rig: {
      width: Number(ENV.STACKSCOPE__rig__simulated__width),
      height: Number(ENV.STACKSCOPE__rig__simulated__height),
      stack: STACK,
    },
    routes: {
      'GET /api/status': summarise(status, seconds),
      'GET /api/stacks/:id/result.jpg (Range)': summarise(downloads, seconds),
    },
    wrongBytes: wrongBytes.length,
    clientErrors: errors.length,
    serverErrors: [...status, ...downloads].filter((s) => s.status >= 500).length,
    stacks: {
      baselineMs: Math.round(totalMs(baseline)),
      underLoad: jobs.length,
      doneUnderLoad: done.length,
      meanMsUnderLoad: Math.round(done.reduce((a, j) => a + totalMs(j), 0) / Math.max(1, done.length)),
      failedUnderLoad: jobs.filter((j) => j.status === 'failed').length,
    },
  };
  const file = join(ROOT, 'bench', 'results', `load-${results.date.replace(/[:.]/g, '-')}.json`);
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  for (const [route, r] of Object.entries(results.routes))
    log(
      `${route}: ${r.requests} requests, ${r.perSecond}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${JSON.stringify(r.statuses)}`,
    );
  log(
    `stacks: baseline ${results.stacks.baselineMs} ms; under load ${results.stacks.doneUnderLoad} done of ${results.stacks.underLoad}, mean ${results.stacks.meanMsUnderLoad} ms`,
  );
  log(
    `5xx: ${results.serverErrors}, wrong bytes: ${results.wrongBytes}, client errors: ${results.clientErrors}`,
  );
  log(`written: ${file}`);
  process.exitCode = results.serverErrors + results.wrongBytes + results.clientErrors === 0 ? 0 : 1;
} finally {
  await daemon?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
