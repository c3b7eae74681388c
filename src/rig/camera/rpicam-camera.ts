// The Pi rig's Camera: rpicam-still (or libcamera-still) kept alive for a stack and triggered per frame
// (SIGUSR1 or Enter), each frame confirmed by its metadata block on stdout, checked, then moved into place.
import { spawn as spawnProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CameraConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import type { Camera, CapturedFrame, CaptureSettings, MoveOptions } from '../types.js';
import { buildRpicamArgs, frameFile, METER_PREVIEW_MS, needsMetering, resolveSettings } from './arguments.js';
import type { ProcessRole } from './arguments.js';
import { deliverFrame, describeExit, startFirstProgram, type CameraProcess } from './camera-process.js';
import { frameExposure, type MetadataBlock } from './metadata.js';

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

/**
 *   open ─► meter once (auto exposure) ─► lock ─► start session process ─► wait until it can take signals
 *   capture ─► (previous frame done) ─► trigger ─► metadata block ─► check file ─► rename to target
 *            └► exit → CAMERA_FAILED, silence → kill + CAMERA_TIMEOUT; the next capture restarts it
 */
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
    await deliverFrame(shot.output, file, settings.encoding);
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
    const block = await proc.awaitOneShot(what, timeoutMs, this.killGraceMs, signal);
    if (block === 'aborted') throw cancelledError(what);
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
    const { program, proc } = await startFirstProgram(this.spawnImpl, candidates, args, this.logger);
    this.program = program;
    this.running.add(proc);
    void proc.exited.then(() => this.running.delete(proc));
    if (generation !== this.generation) {
      await proc.terminate(this.killGraceMs);
      throw closedError();
    }
    return proc;
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

function cancelledError(what: string): StackscopeError {
  return new StackscopeError('CANCELLED', `${what} cancelled before the frame was complete`);
}

function closedError(): StackscopeError {
  return new StackscopeError('CANCELLED', 'the camera session was closed before the frame was taken');
}
