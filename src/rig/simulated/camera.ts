// The simulated microscope's camera: renders the synthetic specimen as seen with the focus carriage
// where the virtual stage put it, with optional wobble and focus breathing, and writes a real image file.
import { rename, rm, stat, truncate } from 'node:fs/promises';
import sharp from 'sharp';
import type { SimulatedConfig } from '../../config/schema.js';
import { StackscopeError } from '../../errors.js';
import type { Camera, CapturedFrame, CaptureSettings, MoveOptions } from '../types.js';
import { createDefocusRenderer, type DefocusRenderer } from './defocus.js';
import { warpFrame } from './motion.js';
import { gaussian, hashSeed, mulberry32 } from './prng.js';
import { makeScene } from './scene.js';

export interface SimulatedCameraOptions {
  config: SimulatedConfig;
  /** Where the focus really is (the carriage, after backlash play), µm on the stage's scale. */
  focusUm: () => number;
}

export class SimulatedCamera implements Camera {
  readonly description: string;
  private readonly config: SimulatedConfig;
  private readonly focusUm: () => number;
  private renderer: DefocusRenderer | null = null;
  private settings: CaptureSettings | null = null;
  private frames = 0;

  constructor({ config, focusUm }: SimulatedCameraOptions) {
    this.config = config;
    this.focusUm = focusUm;
    this.description = `simulated camera ${config.width}×${config.height} (specimen ${config.specimenBaseUm}–${config.specimenBaseUm + config.depthRangeUm} µm)`;
  }

  async open(settings: CaptureSettings): Promise<void> {
    this.settings = settings;
    // The scene and its blur levels are built once per process: a few hundred ms at 1 MP.
    this.renderer ??= createDefocusRenderer(
      makeScene({
        width: this.config.width,
        height: this.config.height,
        seed: this.config.seed,
        depthRangeUm: this.config.depthRangeUm,
      }),
      { blurPxPerUm: this.config.blurPxPerUm, noise: this.config.noise },
    );
  }

  async capture(file: string, options: MoveOptions = {}): Promise<CapturedFrame> {
    const started = performance.now();
    if (!this.settings || !this.renderer)
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
    let frame = this.renderer.render(focus - this.config.specimenBaseUm, {
      seed: hashSeed(this.config.seed, index),
    });
    const { wobblePx, breathingPerUm } = this.config;
    if (wobblePx > 0 || breathingPerUm > 0) {
      // Wobble is a property of the stage position (the same step lands the same way), breathing
      // grows with the distance from the specimen's base.
      const rng = mulberry32(hashSeed(this.config.seed, Math.round(focus * 100)));
      frame = warpFrame(frame, {
        dx: wobblePx * gaussian(rng),
        dy: wobblePx * gaussian(rng),
        scale: 1 + breathingPerUm * (focus - this.config.specimenBaseUm),
        rotationDeg: 0,
      });
    }
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

  async close(): Promise<void> {
    this.settings = null;
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
