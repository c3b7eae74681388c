// The simulated microscope's camera: renders the synthetic specimen as seen with the focus carriage
// where the virtual stage put it, with optional wobble and focus breathing, and writes a real image file.
import { rename, rm, stat, truncate } from 'node:fs/promises';
import sharp from 'sharp';
import type { SimulatedConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import type { Camera, CapturedFrame, CaptureSettings, MoveOptions } from '../types.js';
import { RenderThread } from './render-thread.js';

export interface SimulatedCameraOptions {
  config: SimulatedConfig;
  /** Where the focus really is (the carriage, after backlash play), µm on the stage's scale. */
  focusUm: () => number;
}

export class SimulatedCamera implements Camera {
  readonly description: string;
  private readonly config: SimulatedConfig;
  private readonly focusUm: () => number;
  /**
   * Renders on a worker thread: a 5 MP frame is ~0.5 s of JavaScript, which on the main thread would
   * hold every API request back for as long.
   */
  private readonly thread: RenderThread;
  private settings: CaptureSettings | null = null;
  private frames = 0;

  constructor({ config, focusUm }: SimulatedCameraOptions) {
    this.config = config;
    this.focusUm = focusUm;
    this.thread = new RenderThread(config);
    this.description = `simulated camera ${config.width}×${config.height} (specimen ${config.specimenBaseUm}–${config.specimenBaseUm + config.depthRangeUm} µm)`;
  }

  /** The render thread's id during a session, null outside one. */
  get renderThreadId(): number | null {
    return this.thread.threadId;
  }

  async open(settings: CaptureSettings): Promise<void> {
    // The scene and its blur levels are built once (seconds at 5 MP), on the render thread.
    await this.thread.start();
    this.settings = settings;
  }

  async capture(file: string, options: MoveOptions = {}): Promise<CapturedFrame> {
    const started = performance.now();
    if (!this.settings)
      throw new StackscopeError(
        'CAMERA_FAILED',
        'capture() before open(): the camera session is not started',
      );
    const { encoding, quality } = this.settings;
    await exposure(this.config.exposureMs / this.config.timeScale, options.signal);
    const focus = this.focusUm();
    const index = this.frames++;
    const { crashEvery, corruptFrameEvery } = this.config.faults;
    if (crashEvery !== undefined && (index + 1) % crashEvery === 0)
      throw new StackscopeError(
        'CAMERA_FAILED',
        `simulated camera crashed on capture ${index + 1} (rig.simulated.faults.crashEvery = ${crashEvery})`,
      );
    const frame = await this.thread.render(focus, index);
    const image = sharp(frame.data, {
      raw: { width: frame.width, height: frame.height, channels: frame.channels },
    });
    const encoded = encoding === 'png' ? image.png({ compressionLevel: 1 }) : image.jpeg({ quality });
    // Written under a temporary name, then renamed: a reader never sees half a frame.
    const temp = `${file}.partial`;
    try {
      await encoded.toFile(temp);
      // A flaky card or a camera killed mid-write hands over a frame cut short, under its final name.
      if (corruptFrameEvery !== undefined && (index + 1) % corruptFrameEvery === 0)
        await truncate(temp, Math.floor((await stat(temp)).size / 2));
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StackscopeError(
        'CAMERA_FAILED',
        `simulated camera could not write ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return {
      file,
      durationMs: performance.now() - started,
      exposure: { shutterUs: 10000, analogueGain: 1, awbGains: [1.6, 1.4] },
    };
  }

  /** Ends the session and the render thread; the scene waits in memory for the next session. */
  async close(): Promise<void> {
    this.settings = null;
    await this.thread.stop();
  }
}

function exposure(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => new StackscopeError('CANCELLED', 'capture cancelled');
    if (signal?.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
