// The daemon's server-sent events (/api/events) for every view of the page: one EventSource,
// listeners per event type, and whether the stream is connected (EventSource reconnects by itself).
import { currentToken } from './token.js';
import type { DaemonEvent } from './types.js';

type Listener = (event: DaemonEvent) => void;

const listeners = new Set<Listener>();
const connectionListeners = new Set<(connected: boolean) => void>();
let source: EventSource | null = null;

function connect(): void {
  if (source) return;
  // EventSource cannot send headers: with server.protectReads the daemon takes the token as a query
  // parameter on this one route (and keeps it out of its logs).
  const token = currentToken();
  source = new EventSource(token ? `/api/events?token=${encodeURIComponent(token)}` : '/api/events');
  const deliver = (message: MessageEvent<string>) => {
    let event: DaemonEvent;
    try {
      event = JSON.parse(message.data) as DaemonEvent;
    } catch {
      return;
    }
    for (const listener of listeners) listener(event);
  };
  for (const type of ['job', 'stage', 'button']) source.addEventListener(type, deliver);
  source.addEventListener('open', () => connectionListeners.forEach((l) => l(true)));
  source.addEventListener('error', () => connectionListeners.forEach((l) => l(false)));
}

/** Listens to every event; returns the unsubscribe function. */
export function onDaemonEvent(listener: Listener): () => void {
  connect();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onConnection(listener: (connected: boolean) => void): () => void {
  connect();
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}
