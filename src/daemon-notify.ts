// Tells systemd (Type=notify) that the daemon is ready, feeds its watchdog and says when it stops, through
// the systemd-notify program; off systemd (no NOTIFY_SOCKET) it does nothing.
//
// Why a child process: NOTIFY_SOCKET is a unix *datagram* socket, and Node has no way to send one
// without a native module (dgram takes only udp4/udp6; net only streams). systemd-notify is on every
// systemd system. It sends from its own pid, so the unit needs NotifyAccess=all; it waits (without
// --no-block) until systemd has read the message, so systemd can still tell which service sent it.
import { execFile } from 'node:child_process';

/** Sends one notification: `VARIABLE=value` assignments, as systemd-notify takes them. */
export type NotifySender = (assignments: string[]) => Promise<void>;

export interface ServiceNotifyOptions {
  env?: NodeJS.ProcessEnv;
  logger?: { warn(obj: object, msg: string): void };
  /** Default: runs systemd-notify. */
  send?: NotifySender;
  /** This process's pid, compared with WATCHDOG_PID. */
  pid?: number;
}

/** Longest wait for one systemd-notify run: it gives up by itself after 5 s when nobody reads. */
const SEND_TIMEOUT_MS = 10_000;

export const runSystemdNotify: NotifySender = (assignments) =>
  new Promise((resolve, reject) => {
    execFile('systemd-notify', assignments, { timeout: SEND_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const why = String(stderr).trim() || error.message;
      reject(
        new Error(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'systemd-notify is not installed (package systemd)'
            : `systemd-notify ${assignments.join(' ')} failed: ${why}`,
        ),
      );
    });
  });

/**
 * The watchdog period systemd asked for (WATCHDOG_USEC), in ms, when it is meant for this process;
 * null when there is no watchdog. Pings go out at half the period, as sd_watchdog_enabled(3) advises.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

/**
 * Announces readiness (READY=1 with a status line) and starts the watchdog pings. Returns the step for
 * shutdown: it stops the pings and sends STOPPING=1. A failed notification is logged, never thrown: the
 * daemon serves either way, and under Type=notify systemd reports the missing readiness itself.
 */
export async function notifyServiceReady(
  status: string,
  options: ServiceNotifyOptions = {},
): Promise<() => Promise<void>> {
  const { env = process.env, logger, send = runSystemdNotify } = options;
  if (!env.NOTIFY_SOCKET) return async () => {};
  const attempt = async (assignments: string[]) => {
    try {
      await send(assignments);
    } catch (error) {
      logger?.warn({ err: error }, `cannot notify systemd (${assignments[0]}): ${(error as Error).message}`);
    }
  };
  await attempt(['READY=1', `STATUS=${status}`]);
  const intervalMs = watchdogIntervalMs(env, options.pid);
  let timer: NodeJS.Timeout | undefined;
  let pinging = false;
  if (intervalMs !== null) {
    timer = setInterval(() => {
      // A ping still running (a loaded Pi Zero) is not doubled: the next tick comes soon enough.
      if (pinging) return;
      pinging = true;
      void attempt(['WATCHDOG=1']).finally(() => (pinging = false));
    }, intervalMs);
    timer.unref();
  }
  return async () => {
    clearInterval(timer);
    await attempt(['STOPPING=1', 'STATUS=stopping']);
  };
}
