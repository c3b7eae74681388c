// `stackscope serve`: loads the configuration, opens the rig and the store, recovers interrupted jobs,
// starts the job manager and the HTTP API, and shuts all of it down cleanly on SIGTERM/SIGINT.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { isLoopback } from './api/auth.js';
import type { Config } from './config/index.js';
import { notifyServiceReady } from './daemon-notify.js';
import { openRig } from './rig/open-rig.js';
import { lockRig } from './rig/rig-lock.js';
import { createServices } from './services.js';
import { JobStore } from './store/job-store.js';
import { recoverJobs } from './store/recovery.js';
import { applyRetention } from './store/retention.js';
import { setBackgroundWork } from './thread-priority.js';

export interface Daemon {
  url: string;
  close(): Promise<void>;
}

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() =>
    readFile(new URL('../package.json', import.meta.url), 'utf8'),
  );
  return (JSON.parse(text) as { version: string }).version;
}

export async function startDaemon(
  config: Config,
  logger: Logger = pino({ name: 'stackscope' }),
): Promise<Daemon> {
  // Stacking and rendering threads yield to the API thread: a status request is answered at once.
  setBackgroundWork(true);
  const stateDir = join(config.dataDir, 'state');
  await mkdir(stateDir, { recursive: true });
  const lock = await lockRig(stateDir, 'stackscope serve');
  const closers: (() => Promise<unknown>)[] = [() => lock.release()];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
  };
  try {
    const store = await JobStore.open({ dataDir: config.dataDir, logger });
    // Before anything can start a job: what a crash left running is marked interrupted, frames kept.
    const recovered = await recoverJobs(store, { logger });
    if (recovered.interrupted.length)
      logger.warn(
        { jobs: recovered.interrupted },
        `${recovered.interrupted.length} job(s) interrupted by the last shutdown`,
      );
    const rig = await openRig(config.rig, { stateDir, logger });
    closers.push(() => rig.close());
    const { jobs, scheduler, context } = createServices(
      { config, rig, store, logger },
      await packageVersion(),
    );
    jobs.start();
    closers.push(() => jobs.shutdown());
    await scheduler.start();
    // Closers run in reverse: the scheduler stops before the job manager shuts down.
    closers.push(() => scheduler.stop());
    const retention = scheduleRetention(store, config, logger);
    closers.push(async () => clearInterval(retention));
    const app = await buildApp(context);
    closers.push(() => app.close());
    const { host, port, token } = config.server;
    const url = await app.listen({ host, port });
    if (!isLoopback(host) && !token)
      logger.warn(
        `listening on ${host}:${port} without a token: anyone on the network can move the stage (set server.token)`,
      );
    logger.info(
      { url, rig: rig.kind, dataDir: config.dataDir },
      `stackscope listening on ${url} (${rig.kind} rig)`,
    );
    // systemd (Type=notify): ready only now that the API answers; then the watchdog, STOPPING on close.
    closers.push(await notifyServiceReady(`listening on ${url} (${rig.kind} rig)`, { logger }));
    return { url, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function scheduleRetention(store: JobStore, config: Config, logger: Logger): NodeJS.Timeout {
  const { keepFramesDays, keepFramesGb } = config.jobs;
  const run = () => {
    if (keepFramesDays === undefined && keepFramesGb === undefined) return;
    applyRetention(store, {
      maxAgeDays: keepFramesDays,
      maxFramesBytes: keepFramesGb === undefined ? undefined : keepFramesGb * 1e9,
    })
      .then(
        (r) =>
          r.removed.length &&
          logger.info(
            { removed: r.removed.length, freedBytes: r.framesBytesBefore - r.framesBytesAfter },
            'retention removed old frames',
          ),
      )
      .catch((error: unknown) => logger.error({ err: error }, 'retention failed'));
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  timer.unref();
  return timer;
}
