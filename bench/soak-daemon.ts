// The real CLI daemon (`node --import tsx src/cli.ts serve --port 0`) as a child process for the soak
// and load runs: start it, read its URL from its log, drain and watch its log, follow its event stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..');

/** The simulated rig with small frames and fast moves, the disk reserve off; soak and load add to it. */
export const BASE_ENV: Record<string, string> = {
  STACKSCOPE__rig__type: 'simulated',
  STACKSCOPE__rig__simulated__width: '480',
  STACKSCOPE__rig__simulated__height: '360',
  STACKSCOPE__rig__simulated__timeScale: '20',
  // 4000 ms at a twentieth of real time: 200 ms per frame, so a kill can land mid-capture.
  STACKSCOPE__rig__simulated__exposureMs: '4000',
  STACKSCOPE__rig__stage__settleMs: '0',
  STACKSCOPE__jobs__reserveMb: '0',
  STACKSCOPE__jobs__maxQueued: '20',
  STACKSCOPE_LOG_LEVEL: 'info',
};

export interface LogEntry {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export class DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url = '';
  /** Log lines at error level or above (pino level ≥ 50), as parsed. */
  readonly errors: LogEntry[] = [];
  private stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  }

  /** Starts `stackscope serve` on `dataDir` and resolves once it logs the URL it listens on. */
  static start(dataDir: string, env: Record<string, string>, timeoutMs = 60_000): Promise<DaemonProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const daemon = new DaemonProcess(child);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      daemon.stderr = (daemon.stderr + s).slice(-4000);
    });
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`no "listening" line in ${timeoutMs} ms; stderr: ${daemon.stderr}`));
      }, timeoutMs);
      void daemon.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        fail(new Error(`serve exited (${code ?? signal}) before listening: ${daemon.stderr}`));
      });
      // The log is read to its end, always: a full pipe would block the daemon's synchronous writes.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        // Once listening, only error lines (pino levels 50, 60) are worth parsing: request logs are many.
        if (daemon.url && !/"level":[56]0/.test(line)) return;
        let entry: LogEntry;
        try {
          entry = JSON.parse(line) as LogEntry;
        } catch {
          return;
        }
        if ((entry.level ?? 0) >= 50) daemon.errors.push(entry);
        const match = /^stackscope listening on (\S+)/.exec(entry.msg ?? '');
        if (match && !daemon.url) {
          daemon.url = match[1];
          clearTimeout(timer);
          done(daemon);
        }
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no shutdown code runs, exactly as a power cut or the OOM killer. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the daemon's clean shutdown; resolves with its exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return (await this.exited).code;
  }
}

export interface JobEvent {
  type: string;
  id?: string;
  status?: string;
  progress?: { captured: number; stacked: number; total: number };
}

/** Follows GET /api/events; `listener` gets every event. Resolves once the stream is open. */
export function followEvents(url: string, listener: (event: JobEvent) => void): Promise<{ close(): void }> {
  return new Promise((done, fail) => {
    const request = get(`${url}/api/events`, (response: IncomingMessage) => {
      if (response.statusCode !== 200) return fail(new Error(`events: HTTP ${response.statusCode}`));
      let buffer = '';
      response.setEncoding('utf8').on('data', (text: string) => {
        buffer += text;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) listener(JSON.parse(data.slice(6)) as JobEvent);
        }
      });
      response.on('error', () => {});
      done({ close: () => request.destroy() });
    });
    request.on('error', fail);
  });
}

/** The latest state of each job from the event stream, and waits for a job to reach a moment. */
export class JobWatch {
  private readonly states = new Map<string, JobEvent>();
  private readonly waiters = new Set<() => void>();
  private stream: { close(): void } | null = null;

  async open(url: string): Promise<this> {
    this.stream = await followEvents(url, (event) => this.update(event));
    return this;
  }

  close(): void {
    this.stream?.close();
  }

  /** Resolves true once `reached` holds for job `id`'s latest state, false after `timeoutMs`. */
  until(id: string, timeoutMs: number, reached: (state: JobEvent) => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        const state = this.states.get(id);
        if (!state || !reached(state)) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private update(event: JobEvent): void {
    if (event.type !== 'job' || !event.id) return;
    const previous = this.states.get(event.id);
    // Progress rides on some events only: a status-only event keeps the last progress seen.
    this.states.set(event.id, { ...previous, ...event, progress: event.progress ?? previous?.progress });
    for (const check of [...this.waiters]) check();
  }
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls GET /api/stacks/:id until its status is one of `statuses`; null after `timeoutMs`. */
export async function waitForStatus(
  url: string,
  id: string,
  statuses: string[],
  timeoutMs = 120_000,
): Promise<Record<string, unknown> | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { body } = await getJson(`${url}/api/stacks/${id}`);
    if (statuses.includes(String(body.status))) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}
