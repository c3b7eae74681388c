// The daemon's event bus: job progress, stage moves and button presses, fanned out to the
// server-sent events stream (and logs). Typed so that producers and the SSE route agree.
import { EventEmitter } from 'node:events';

export type DaemonEvent =
  | {
      type: 'job';
      id: string;
      status: string;
      progress?: { captured: number; stacked: number; total: number };
      latestFrame?: number;
      /** A new running preview (GET /api/stacks/:id/preview.jpg) after this many merged frames. */
      preview?: number;
    }
  | { type: 'stage'; event: string; um: number; certain: boolean }
  | { type: 'button'; kind: 'short' | 'long'; action: string }
  | {
      type: 'schedule';
      id: string;
      event:
        'created' | 'updated' | 'deleted' | 'run' | 'run-finished' | 'skipped' | 'finished' | 'timelapse';
      run?: number;
      jobId?: string;
      status?: string;
      reason?: string;
    };

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open browser tab is a listener; the default warning at 10 is not a leak here.
    this.emitter.setMaxListeners(0);
  }

  emit(event: DaemonEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: DaemonEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
