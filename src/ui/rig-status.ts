// The rig's state as the page knows it: /api/status polled (it answers from memory and is exempt
// from the rate limit), stage events applied at once so the position follows a jog without waiting.
import { api } from './api.js';
import { onDaemonEvent } from './live-events.js';
import type { Status } from './types.js';

const POLL_MS = 2000;
const listeners = new Set<(status: Status | null, error?: unknown) => void>();
let latest: Status | null = null;
let timer: number | undefined;

export function currentStatus(): Status | null {
  return latest;
}

function publish(error?: unknown): void {
  for (const listener of listeners) listener(latest, error);
}

export async function refreshStatus(): Promise<Status | null> {
  try {
    latest = await api.get<Status>('/api/status');
    publish();
  } catch (error) {
    publish(error);
  }
  return latest;
}

/** Applies a position answered by a stage route, without waiting for the next poll. */
export function setPosition(position: Status['stage']['position']): void {
  if (!latest) return;
  latest = { ...latest, stage: { ...latest.stage, position } };
  publish();
}

function start(): void {
  if (timer !== undefined) return;
  void refreshStatus();
  timer = window.setInterval(() => {
    if (document.visibilityState === 'visible') void refreshStatus();
  }, POLL_MS);
  onDaemonEvent((event) => {
    if (event.type === 'stage' && latest) {
      const position = { ...latest.stage.position, um: event.um, certain: event.certain };
      latest = { ...latest, stage: { ...latest.stage, position } };
      publish();
    } else if (event.type === 'job' && (latest?.job?.id !== event.id || latest.job.status !== event.status)) {
      // A job started, changed phase or ended: the busy flag and the queue changed.
      void refreshStatus();
    }
  });
}

/** Listens to status changes (and poll failures); returns the unsubscribe function. */
export function onStatus(listener: (status: Status | null, error?: unknown) => void): () => void {
  start();
  listeners.add(listener);
  if (latest) listener(latest);
  return () => listeners.delete(listener);
}
