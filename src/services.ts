// Wires the daemon's services around a rig and a job store: the event bus (fed by the stage), the
// job manager, the timelapse scheduler, and the context the API is built from. Starting them is the caller's.
import type { Logger } from 'pino';
import type { AppContext } from './api/context.js';
import type { Config } from './config/index.js';
import { EventBus } from './events.js';
import { JobManager } from './jobs/manager.js';
import type { Rig } from './rig/types.js';
import { Scheduler } from './schedule/scheduler.js';
import { ScheduleStore } from './schedule/store.js';
import { TimelapseBuilder } from './schedule/timelapse.js';
import type { JobStore } from './store/job-store.js';

export interface Services {
  bus: EventBus;
  jobs: JobManager;
  scheduler: Scheduler;
  context: AppContext;
}

export function createServices(
  { config, rig, store, logger }: { config: Config; rig: Rig; store: JobStore; logger?: Logger },
  version: string,
): Services {
  const bus = new EventBus();
  rig.stage.onEvent((event) => {
    const position = 'position' in event ? event.position : rig.stage.position();
    bus.emit({ type: 'stage', event: event.type, um: position.um, certain: position.certain });
  });
  const jobs = new JobManager({ rig, store, bus, config, logger });
  const schedules = new ScheduleStore({ dataDir: config.dataDir });
  const outputDir = (id: string) => schedules.outputDir(id);
  const timelapse = new TimelapseBuilder({
    outputDir,
    resultPath: (id, name) => store.resultPath(id, name),
    logger,
  });
  const scheduler = new Scheduler({
    jobs,
    jobStore: store,
    bus,
    stage: rig.stage,
    store: schedules,
    timelapse,
    declared: config.schedules,
    canHome: Boolean(config.rig.stage.limitSwitch),
    logger,
    onEvent: (event) => bus.emit(event),
  });
  return {
    bus,
    jobs,
    scheduler,
    context: {
      config,
      rig,
      jobs,
      store,
      bus,
      version,
      logger,
      schedules: { scheduler, timelapse, outputDir },
    },
  };
}
