// The camera program as the operating system sees it: one running rpicam-still (its metadata, stderr tail,
// triggers, exit and the errors that carry them) and the frame files it writes in place.
import type { spawn as spawnProcess, ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFile, open, rename, unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CameraConfig } from '../../config/schema.js';
import { StackscopeError, type ErrorCode } from '../../errors.js';
import type { CaptureSettings } from '../types.js';
import { watchMetadata, type MetadataBlock } from './metadata.js';

/** How many of the camera's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 20;
/** Printed while rpicam-still configures the camera, after it installed its SIGUSR1/SIGUSR2 handlers. */
const READY_LINE = /Mode selection for|Selected sensor format|Sensor: \//;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A camera failure with what the process said: its last stderr lines and how it ended. */
export class CameraProcessError extends StackscopeError {
  readonly stderr: string[];
  readonly exit: ProcessExit | null;

  constructor(code: ErrorCode, message: string, stderr: string[], exit: ProcessExit | null) {
    super(code, message);
    this.name = 'CameraProcessError';
    this.stderr = stderr;
    this.exit = exit;
  }
}

export function describeExit(exit: ProcessExit | null): string {
  if (!exit) return 'stopped answering';
  if (exit.signal === 'SIGUSR1') {
    return 'was killed by SIGUSR1 (a trigger before it had installed its signal handler)';
  }
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * Starts the first of `programs` that runs (a missing or unexecutable one is skipped); CAMERA_UNAVAILABLE,
 * naming why each failed, when none does.
 */
export async function startFirstProgram(
  spawn: typeof spawnProcess,
  programs: readonly string[],
  args: string[],
  logger?: Logger,
): Promise<{ program: string; proc: CameraProcess }> {
  const failures: string[] = [];
  for (const program of programs) {
    const started = await CameraProcess.start(spawn, program, args, logger);
    if (started instanceof CameraProcess) return { program, proc: started };
    failures.push(`${program}: ${started}`);
  }
  throw new StackscopeError(
    'CAMERA_UNAVAILABLE',
    `no camera program could be started (${failures.join('; ')}): expected rpicam-still or libcamera-still ` +
      'on PATH (package rpicam-apps), or camera.command naming the program',
  );
}

/** One running camera program: its metadata blocks, the tail of its stderr, and how it ended. */
export class CameraProcess {
  readonly name: string;
  framesDone = 0;
  readySeen = false;
  exit: ProcessExit | null = null;
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly blocks: MetadataBlock[] = [];
  private readonly tail: string[] = [];
  private partialLine = '';
  private readonly waiters = new Set<() => void>();

  /** Spawns `program`; resolves with the process, or with why it could not be run (ENOENT, EACCES…). */
  static async start(
    spawn: typeof spawnProcess,
    program: string,
    args: string[],
    logger?: Logger,
  ): Promise<CameraProcess | string> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      return (error as Error).message;
    }
    const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (failure) return failure.code ?? failure.message;
    logger?.debug({ program, args, pid: child.pid }, 'camera process started');
    return new CameraProcess(child, program, logger);
  }

  private constructor(child: ChildProcessWithoutNullStreams, program: string, logger?: Logger) {
    this.child = child;
    this.name = `${program} (pid ${child.pid})`;
    watchMetadata(child.stdout, (block) => {
      this.blocks.push(block);
      this.changed();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      const lines = (this.partialLine + text).split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) {
        logger?.debug({ pid: child.pid }, line);
        this.tail.push(line);
        if (READY_LINE.test(line)) this.readySeen = true;
      }
      this.tail.splice(0, Math.max(0, this.tail.length - STDERR_TAIL_LINES));
      this.changed();
    });
    // EPIPE on a trigger to a process that just died: its exit is what gets reported.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => logger?.warn({ err: error, pid: child.pid }, 'camera process error'));
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': the last metadata block may still be in the pipe when the process ends.
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.changed();
      });
    });
  }

  takeBlock(): MetadataBlock | undefined {
    return this.blocks.shift();
  }

  takeAllBlocks(): number {
    return this.blocks.splice(0).length;
  }

  stderrTail(): string[] {
    const lines = this.partialLine ? [...this.tail, this.partialLine] : [...this.tail];
    return lines.slice(-STDERR_TAIL_LINES);
  }

  trigger(mode: CameraConfig['mode']): void {
    if (mode === 'keypress') this.child.stdin.write('\n');
    else this.child.kill('SIGUSR1');
  }

  /** Resolves with check()'s first defined answer, re-asked at every output and at the exit. */
  until<T>(
    check: () => T | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      const finish = (value: T | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        this.waiters.delete(poll);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const poll = () => {
        const value = check();
        if (value !== undefined) finish(value);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.waiters.add(poll);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      else poll();
    });
  }

  /**
   * Waits for a program that shoots once and exits; its metadata block, or 'aborted' once it is gone.
   * Too slow: killed, CAMERA_TIMEOUT; a failed exit, or no block: CAMERA_FAILED.
   */
  async awaitOneShot(
    what: string,
    timeoutMs: number,
    graceMs: number,
    signal?: AbortSignal,
  ): Promise<MetadataBlock | 'aborted'> {
    const result = await this.until(() => this.exit ?? undefined, timeoutMs, signal);
    if (result === 'aborted') {
      await this.terminate(graceMs);
      return 'aborted';
    }
    if (result === 'timeout') {
      await this.terminate(graceMs);
      throw this.failure(
        'CAMERA_TIMEOUT',
        `${this.name} did not finish ${what} within ${timeoutMs} ms; killed`,
      );
    }
    const block = this.takeBlock();
    if (result.code !== 0 || result.signal) {
      throw this.failure('CAMERA_FAILED', `${this.name} ${describeExit(result)} while taking ${what}`);
    }
    if (!block) {
      throw this.failure(
        'CAMERA_FAILED',
        `${this.name} exited normally without reporting ${what} saved (no metadata block on stdout)`,
      );
    }
    return block;
  }

  /** Asks the program to quit (SIGUSR2 or "x"), and kills it if it has not within `timeoutMs`. */
  async quit(mode: CameraConfig['mode'], timeoutMs: number): Promise<void> {
    if (this.exit) return;
    if (mode === 'keypress') this.child.stdin.write('x\n');
    else this.child.kill('SIGUSR2');
    if ((await this.until(() => this.exit ?? undefined, timeoutMs)) === 'timeout') this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (and reaped). */
  async terminate(graceMs: number): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    if ((await this.until(() => this.exit ?? undefined, graceMs)) === 'timeout') this.child.kill('SIGKILL');
    await this.exited;
  }

  failure(code: ErrorCode, what: string): CameraProcessError {
    const tail = this.stderrTail();
    const said =
      tail.length > 0 ? `; its last stderr lines:\n${tail.join('\n')}` : '; it printed nothing on stderr';
    return new CameraProcessError(code, what + said, tail, this.exit);
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Checks that a frame the camera reported saved is complete, then moves it to `target`. */
export async function deliverFrame(
  output: string,
  target: string,
  encoding: CaptureSettings['encoding'],
): Promise<void> {
  await checkImageComplete(output, encoding);
  await moveInto(output, target);
}

/** The camera writes in place: only a file with its format's last bytes is complete. */
async function checkImageComplete(file: string, encoding: CaptureSettings['encoding']): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new StackscopeError(
      'CAMERA_FAILED',
      `the camera reported frame ${file} saved, but it cannot be opened (${(error as NodeJS.ErrnoException).code}): ` +
        'is its frame counter out of step with the driver?',
      { cause: error },
    );
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(8);
    const tail = Buffer.alloc(12);
    if (size >= 20) {
      await handle.read(head, 0, 8, 0);
      await handle.read(tail, 0, 12, size - 12);
    }
    const complete =
      encoding === 'png'
        ? head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) &&
          tail.toString('latin1', 4, 8) === 'IEND'
        : head[0] === 0xff && head[1] === 0xd8 && tail[10] === 0xff && tail[11] === 0xd9;
    if (!complete) {
      const expected = encoding === 'png' ? 'the PNG signature … IEND' : 'FFD8 … FFD9';
      throw new StackscopeError(
        'CAMERA_FAILED',
        `frame ${file} is not a complete ${encoding.toUpperCase()} file: expected ${expected}, got ` +
          `${head.toString('hex')} … ${tail.toString('hex')} (${size} bytes)`,
      );
    }
  } finally {
    await handle.close();
  }
}

/** Rename (same filesystem); across filesystems copy beside the target, then rename, so no half file shows. */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    try {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const partial = `${to}.partial`;
      await copyFile(from, partial);
      await rename(partial, to);
      await unlink(from);
    } catch (cause) {
      throw new StackscopeError(
        'OUTPUT_FAILED',
        `could not move the frame ${from} to ${to}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}
