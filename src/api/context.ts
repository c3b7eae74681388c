// What the routes are given: the rig, the job manager, the event bus and the configuration.
// Routes take everything from here, so tests build an app around a simulated rig and a temp store.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { EventBus } from '../events.js';
import type { JobManager } from '../jobs/manager.js';
import type { ScheduleRoutesOptions } from './routes/schedules.js';
import type { Rig } from '../rig/types.js';
import type { JobStore } from '../store/job-store.js';

/** The job manager as the routes see it (src/jobs/manager.ts implements it). */
export interface JobsFacade {
  running(): { id: string; status: string } | null;
  queuedCount(): number;
  /** Throws RIG_BUSY, naming the running job, when a job owns the rig. */
  assertRigIdle(action: string): void;
}

export interface AppContext {
  config: Config;
  rig: Rig;
  jobs: JobsFacade &
    Pick<JobManager, 'submitCapture' | 'submitRestack' | 'submitUploaded' | 'cancel' | 'whileIdle'>;
  store: JobStore;
  bus: EventBus;
  version: string;
  /** Timelapse schedules: absent when the daemon runs without a scheduler (tests). */
  schedules?: ScheduleRoutesOptions;
  logger?: Logger;
}
