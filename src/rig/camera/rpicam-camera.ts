// The Pi rig's Camera: rpicam-still (or libcamera-still) kept alive for a stack and triggered per frame
// (SIGUSR1 or Enter), each frame confirmed by its metadata block on stdout, checked, then moved into place.
//
//   open ─► meter once (auto exposure) ─► lock ─► start session process ─► wait until it can take signals
//   capture ─► (previous frame done) ─► trigger ─► metadata block ─► check file ─► rename to target
//            └► exit → CAMERA_FAILED, silence → kill + CAMERA_TIMEOUT; the next capture restarts it
import { spawn as spawnProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CameraConfig } from '../../config/schema.js';
import { StackscopeError, type ErrorCode } from '../../errors.js';
import type { Camera, CapturedFrame, CaptureSettings, MoveOptions } from '../types.js';
import { buildRpicamArgs, frameFile, METER_PREVIEW_MS, needsMetering, resolveSettings } from './arguments.js';
import type { ProcessRole } from './arguments.js';
import { frameExposure, watchMetadata, type MetadataBlock } from './metadata.js';

/** How many of the camera's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 20;
/** Printed while rpicam-still configures the camera, after it installed its SIGUSR1/SIGUSR2 handlers. */
const READY_LINE = /Mode selection for|Selected sensor format|Sensor: \//;
/** Tried in this order: the new name first; Bullseye and pre-1.4 installs have only the old one. */
const DEFAULT_PROGRAMS = ['rpicam-still', 'libcamera-still'];

export interface RpicamCameraOptions {
  config: CameraConfig;
  /**
   * Scratch folder for the numbered outputs, on the same filesystem as the capture targets (a frame
   * is renamed into place; across filesystems it is copied).
   */
  workDir: string;
  logger?: Logger;
  spawn?: typeof spawnProcess;
  /** Program to run; overrides config.command and the rpicam-still/libcamera-still search. */
  command?: string;
  /** Between SIGTERM and SIGKILL when a process is killed, ms. Default 1000. */
  killGraceMs?: number;
  /** How long close() waits for a graceful quit before SIGKILL, ms. Default 2000. */
  quitTimeoutMs?: number;
}

interface Shot {
  output: string;
  block: MetadataBlock;
}

export class RpicamCamera implements Camera {
  private readonly config: CameraConfig;
  private readonly workDir: string;
  private readonly logger?: Logger;
  private readonly spawnImpl: typeof spawnProcess;
  private readonly command?: string;
  private readonly killGraceMs: number;
  private readonly quitTimeoutMs: number;
  private program: string | null = null;
  private settings: CaptureSettings | null = null;
  private sessionDir: string | null = null;
  private session: CameraProcess | null = null;
  private readonly running = new Set<CameraProcess>();
  /** Frame counter shared by every process of the session: a restart continues with --framestart. */
  private nextNumber = 0;
  /** Settles when the last triggered frame is done: no trigger goes out before (two in one frame merge). */
  private lastFrame: Promise<void> = Promise.resolve();
  /** Bumped by close(): work started under an older generation stops instead of spawning. */
  private generation = 0;

  constructor(options: RpicamCameraOptions) {
    this.config = options.config;
    this.workDir = options.workDir;
    this.logger = options.logger;
    this.spawnImpl = options.spawn ?? spawnProcess;
    this.command = options.command ?? options.config.command;
    this.killGraceMs = options.killGraceMs ?? 1000;
    this.quitTimeoutMs = options.quitTimeoutMs ?? 2000;
  }

  get description(): string {
    const program = this.program ?? this.command ?? DEFAULT_PROGRAMS.join(' or ');
    return `${program} (${this.config.mode} mode)`;
  }

  async open(settings: CaptureSettings): Promise<void> {
    if (this.settings) await this.close();
    const wanted = resolveSettings(this.config, settings);
    await mkdir(this.workDir, { recursive: true });
    this.sessionDir = await mkdtemp(path.join(this.workDir, 'rpicam-'));
    this.nextNumber = 0;
    try {
      this.settings = needsMetering(wanted) ? await this.meter(wanted) : wanted;
      if (this.config.mode !== 'per-frame') await this.ensureSession(this.generation);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async capture(file: string, options: MoveOptions = {}): Promise<CapturedFrame> {
    const started = performance.now();
    const settings = this.settings;
    if (!settings) {
      throw new StackscopeError(
        'CAMERA_FAILED',
        `capture(${file}) before open(): the camera session is not started`,
      );
    }
    const { signal } = options;
    const generation = this.generation;
    const work = this.lastFrame.then(() =>
      this.config.mode === 'per-frame'
        ? this.oneShot('frame', settings, this.config.startupTimeoutMs, generation, signal)
        : this.shootInSession(generation, signal),
    );
    this.lastFrame = work.then(
      () => undefined,
      () => undefined,
    );
    const shot = await abortable(work, signal, file);
    await checkImageComplete(shot.output, settings.encoding);
    await moveInto(shot.output, file);
    const measured = frameExposure(shot.block);
    const frame: CapturedFrame = { file, durationMs: performance.now() - started };
    if (measured.shutterUs !== undefined && measured.analogueGain !== undefined) {
      frame.exposure = { shutterUs: measured.shutterUs, analogueGain: measured.analogueGain };
      if (measured.awbGains) frame.exposure.awbGains = measured.awbGains;
    }
    return frame;
  }

  async close(): Promise<void> {
    this.generation++;
    this.settings = null;
    const session = this.session;
    this.session = null;
    await Promise.all(
      [...this.running].map((proc) =>
        proc === session ? proc.quit(this.config.mode, this.quitTimeoutMs) : proc.terminate(this.killGraceMs),
      ),
    );
    await this.lastFrame;
    if (this.sessionDir) await rm(this.sessionDir, { recursive: true, force: true });
    this.sessionDir = null;
  }

  /** One auto-exposed shot; its metadata supplies the exposure, gain and white balance the stack keeps. */
  private async meter(wanted: CaptureSettings): Promise<CaptureSettings> {
    const timeoutMs = this.config.startupTimeoutMs + METER_PREVIEW_MS;
    const shot = await this.oneShot('meter', wanted, timeoutMs, this.generation);
    await rm(shot.output, { force: true });
    const measured = frameExposure(shot.block);
    const locked: CaptureSettings = {
      ...wanted,
      shutterUs: wanted.shutterUs ?? measured.shutterUs,
      analogueGain: wanted.analogueGain ?? measured.analogueGain,
      awbGains: wanted.awbGains ?? measured.awbGains,
    };
    if (needsMetering(locked)) {
      const keys = [...shot.block.keys()].join(', ') || 'none';
      throw new StackscopeError(
        'CAMERA_FAILED',
        `metering shot reported no usable ExposureTime, AnalogueGain or ColourGains (metadata keys: ${keys}); ` +
          'set camera.shutterUs, camera.analogueGain and camera.awbGains to skip metering',
      );
    }
    this.logger?.info(
      { shutterUs: locked.shutterUs, analogueGain: locked.analogueGain, awbGains: locked.awbGains },
      'camera metered; exposure locked for the stack',
    );
    return locked;
  }

  /** The session process, started (or restarted after a crash) and ready to take a trigger. */
  private async ensureSession(generation: number): Promise<CameraProcess> {
    const current = this.session;
    if (current && !current.exit) return current;
    if (current?.exit) {
      this.logger?.warn(
        { exit: current.exit, stderr: current.stderrTail() },
        'camera process had exited; restarting it',
      );
    }
    if (!this.settings) throw closedError();
    const proc = await this.startProcess('session', this.settings, this.nextNumber, generation);
    this.session = proc;
    if (this.config.mode === 'signal') {
      // SIGUSR1 kills rpicam-still until it installs its handler, which it does before configuring the
      // camera: wait for the configuration lines, or (a quiet -v 0 program) a few seconds.
      const fallbackMs = Math.min(5000, this.config.startupTimeoutMs);
      const state = await proc.until(() => (proc.readySeen ? 'ready' : (proc.exit ?? undefined)), fallbackMs);
      if (state === 'timeout') {
        this.logger?.warn({ fallbackMs }, 'camera printed no configuration line; assuming it is ready');
      } else if (state !== 'ready') {
        this.session = null;
        throw proc.failure('CAMERA_FAILED', `${proc.name} ${describeExit(proc.exit)} while starting`);
      }
    }
    return proc;
  }

  private async shootInSession(generation: number, signal?: AbortSignal): Promise<Shot> {
    if (signal?.aborted) throw cancelledError('capture');
    const proc = await this.ensureSession(generation);
    const settings = this.settings;
    if (generation !== this.generation || !settings || !this.sessionDir) throw closedError();
    if (signal?.aborted) throw cancelledError('capture');
    const stale = proc.takeAllBlocks();
    if (stale > 0) this.logger?.warn({ stale }, 'camera printed metadata nobody asked for; ignored');
    const number = this.nextNumber++;
    const output = frameFile(this.sessionDir, settings.encoding, number);
    const firstFrame = proc.framesDone === 0;
    const timeoutMs = firstFrame ? this.config.startupTimeoutMs : this.config.frameTimeoutMs;
    proc.trigger(this.config.mode);
    // The block is printed after the file is closed; an exit or silence ends the wait instead.
    const result = await proc.until(() => proc.takeBlock() ?? (proc.exit ? 'exited' : undefined), timeoutMs);
    if (result !== 'timeout' && result !== 'aborted' && result !== 'exited') {
      proc.framesDone++;
      return { output, block: result };
    }
    // Reported here: the restart at the next capture needs no warning of its own.
    if (this.session === proc) this.session = null;
    if (result === 'exited' && generation !== this.generation) throw closedError();
    if (result === 'exited') {
      throw proc.failure(
        'CAMERA_FAILED',
        `${proc.name} ${describeExit(proc.exit)} while capturing frame ${number} (${output}); ` +
          'the next capture restarts it',
      );
    }
    await proc.terminate(this.killGraceMs);
    const which = firstFrame ? 'camera.startupTimeoutMs, first frame of a process' : 'camera.frameTimeoutMs';
    throw proc.failure(
      'CAMERA_TIMEOUT',
      `${proc.name} delivered no frame ${number} within ${timeoutMs} ms (${which}); ` +
        'the process was killed and the next capture restarts it',
    );
  }

  /** A process that shoots once and exits: a per-frame capture or the metering shot. */
  private async oneShot(
    role: 'frame' | 'meter',
    settings: CaptureSettings,
    timeoutMs: number,
    generation: number,
    signal?: AbortSignal,
  ): Promise<Shot> {
    if (signal?.aborted) throw cancelledError('capture');
    if (generation !== this.generation || !this.sessionDir) throw closedError();
    const number = this.nextNumber++;
    const output = frameFile(this.sessionDir, settings.encoding, number);
    const what = role === 'meter' ? 'the metering shot' : `frame ${number}`;
    const proc = await this.startProcess(role, settings, number, generation);
    const result = await proc.until(() => proc.exit ?? undefined, timeoutMs, signal);
    if (result === 'aborted') {
      await proc.terminate(this.killGraceMs);
      throw cancelledError(what);
    }
    if (result === 'timeout') {
      await proc.terminate(this.killGraceMs);
      throw proc.failure(
        'CAMERA_TIMEOUT',
        `${proc.name} did not finish ${what} within ${timeoutMs} ms; killed`,
      );
    }
    const block = proc.takeBlock();
    if (result.code !== 0 || result.signal) {
      throw proc.failure('CAMERA_FAILED', `${proc.name} ${describeExit(result)} while taking ${what}`);
    }
    if (!block) {
      throw proc.failure(
        'CAMERA_FAILED',
        `${proc.name} exited normally without reporting ${what} saved (no metadata block on stdout)`,
      );
    }
    return { output, block };
  }

  private async startProcess(
    role: ProcessRole,
    settings: CaptureSettings,
    frameStart: number,
    generation: number,
  ): Promise<CameraProcess> {
    if (!this.sessionDir) throw closedError();
    const args = buildRpicamArgs({
      config: this.config,
      settings,
      role,
      outputDir: this.sessionDir,
      frameStart,
    });
    const candidates = this.program ? [this.program] : this.command ? [this.command] : DEFAULT_PROGRAMS;
    const failures: string[] = [];
    for (const program of candidates) {
      const started = await CameraProcess.start(this.spawnImpl, program, args, this.logger);
      if (!(started instanceof CameraProcess)) {
        failures.push(`${program}: ${started}`);
        continue;
      }
      this.program = program;
      this.running.add(started);
      void started.exited.then(() => this.running.delete(started));
      if (generation !== this.generation) {
        await started.terminate(this.killGraceMs);
        throw closedError();
      }
      return started;
    }
    throw new StackscopeError(
      'CAMERA_UNAVAILABLE',
      `no camera program could be started (${failures.join('; ')}): expected rpicam-still or libcamera-still ` +
        'on PATH (package rpicam-apps), or camera.command naming the program',
    );
  }
}

/** Resolves with `work`, or rejects with CANCELLED as soon as `signal` aborts (the work itself goes on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, file: string): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError(`capture of ${file}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
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

function cancelledError(what: string): StackscopeError {
  return new StackscopeError('CANCELLED', `${what} cancelled before the frame was complete`);
}

function closedError(): StackscopeError {
  return new StackscopeError('CANCELLED', 'the camera session was closed before the frame was taken');
}

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

/** One running camera program: its metadata blocks, the tail of its stderr, and how it ended. */
class CameraProcess {
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
