// The soak run's figures (what bench/results/soak-<date>.json holds) and the context its cycles share:
// the running daemon, restarts with other settings, the disk checks, failures and the seeded dice.
import type { DaemonProcess } from './soak-daemon.js';
import type { DiskVerifier } from './soak-verify.js';

export type KillTarget = 'capture' | 'stacking' | 'writing' | 'idle' | 'restacking';
export type FaultKind = 'camera-crash' | 'corrupt-frame' | 'disk-full-submit' | 'disk-full-mid-job';

export interface FaultFigures {
  injected: number;
  /** The job ended as the fault should end it (failed with the expected code, or refused). */
  handled: number;
  /** The fault did not fire (e.g. other processes freed disk space meanwhile). */
  notTriggered: number;
  restackedOk: number;
}

export interface SoakReport {
  date: string;
  seed: number;
  plannedS: number;
  elapsedS: number;
  machine: { cpus: number; node: string; loadavg: number[] };
  rig: Record<string, string>;
  daemonStarts: number;
  /** Mean and longest time from spawn to "listening", recovery included, ms. */
  startMs: { mean: number; max: number };
  cleanStops: { total: number; exitCode0: number };
  jobsStarted: number;
  kills: {
    total: number;
    byTarget: Record<string, number>;
    /** The killed job's status on disk right after the kill (writing: result files had appeared). */
    byStatusFound: Record<string, number>;
    /** The moment did not come within the time allowed; killed anyway. */
    timedOut: number;
  };
  manifests: { checks: number; distinct: number };
  frames: { checks: number; decodedWhole: number; keptAcrossKills: number };
  results: { checks: number };
  interrupted: {
    total: number;
    restackedOk: number;
    /** Interrupted with fewer than 2 frames (killed before its second capture, or while queued). */
    tooFewFramesRefused404: number;
  };
  faults: Record<FaultKind, FaultFigures> & { clockJump: string; cameraHang: string };
  failures: string[];
  failureCount: number;
}

export function emptyReport(seed: number, plannedS: number, rig: Record<string, string>): SoakReport {
  const fault = (): FaultFigures => ({ injected: 0, handled: 0, notTriggered: 0, restackedOk: 0 });
  return {
    date: new Date().toISOString(),
    seed,
    plannedS,
    elapsedS: 0,
    machine: { cpus: 0, node: process.version, loadavg: [] },
    rig,
    daemonStarts: 0,
    startMs: { mean: 0, max: 0 },
    cleanStops: { total: 0, exitCode0: 0 },
    jobsStarted: 0,
    kills: { total: 0, byTarget: {}, byStatusFound: {}, timedOut: 0 },
    manifests: { checks: 0, distinct: 0 },
    frames: { checks: 0, decodedWhole: 0, keptAcrossKills: 0 },
    results: { checks: 0 },
    interrupted: { total: 0, restackedOk: 0, tooFewFramesRefused404: 0 },
    faults: {
      'camera-crash': fault(),
      'corrupt-frame': fault(),
      'disk-full-submit': fault(),
      'disk-full-mid-job': fault(),
      clockJump:
        'not in the soak run: no faketime here; test/reliability/clock-jump.test.ts shifts the daemon’s Date',
      cameraHang:
        'not in the soak run: the simulated camera cannot hang; test/rig/camera/rpicam-camera-failures.test.ts covers rpicam-still hanging',
    },
    failures: [],
    failureCount: 0,
  };
}

export interface SoakContext {
  readonly report: SoakReport;
  readonly verifier: DiskVerifier;
  readonly dataDir: string;
  readonly rng: () => number;
  daemon(): DaemonProcess;
  /** Stops the daemon (kill -9 or SIGTERM), starts it with BASE_ENV plus `env`, checks the disk. */
  restart(how: 'kill' | 'term', env?: Record<string, string>): Promise<void>;
  /** Submits a capture job; its id, or null (recorded as a failure) when refused. */
  submit(request: Record<string, unknown>): Promise<string | null>;
  /** Restacks job `id` and waits for the new job: true when it is done and its result decodes. */
  restack(id: string): Promise<boolean>;
  fail(message: string): void;
}

export const int = (rng: () => number, min: number, max: number): number =>
  min + Math.floor(rng() * (max - min + 1));

/** The run in six lines, for the terminal. */
export function summaryLines(report: SoakReport, file: string): string[] {
  const f = report.faults;
  const kinds: FaultKind[] = ['camera-crash', 'corrupt-frame', 'disk-full-submit', 'disk-full-mid-job'];
  const targets = Object.entries(report.kills.byTarget).map(([k, v]) => `${k} ${v}`);
  return [
    `soak done in ${report.elapsedS} s: ${report.jobsStarted} jobs started, ${report.kills.total} kill -9 (${targets.join(', ')}), ${report.daemonStarts} starts`,
    `manifests: ${report.manifests.checks} checks of ${report.manifests.distinct}; frames: ${report.frames.checks} checks, ${report.frames.decodedWhole} decoded whole, ${report.frames.keptAcrossKills} kept across kills`,
    `interrupted: ${report.interrupted.total}, restacked ok ${report.interrupted.restackedOk}, too few frames (404) ${report.interrupted.tooFewFramesRefused404}`,
    `faults: ${kinds.map((k) => `${k} ${f[k].handled}/${f[k].injected}`).join(', ')}`,
    `failures: ${report.failureCount}`,
    `written: ${file}`,
  ];
}
