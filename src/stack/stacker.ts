// The incremental Stacker: add(frame) as frames arrive, finish() for the results. The only module
// that knows the order of the steps; memory depends on the image size, never on the frame count.
//
//   add(k): copy into the shared frame ─► measure + raw decision ─► [pyramid: reduce levels,
//           decide levels] ─► update winners (filtered) ─► next add may copy frame k+1
//   finish(): fractional depth ─► [pyramid: collapse residual … level 0] ─► results
// add() returns as soon as the frame is copied and its steps are queued, so the caller decodes (and
// aligns) frame k+1 while the workers merge frame k.
import { availableParallelism } from 'node:os';
import { StackscopeError } from '../errors.js';
import { backgroundWork } from '../thread-priority.js';
import { coverageIntervals } from './align/coverage.js';
import type { WarpSpec } from './align/resample.js';
import { IDENTITY, type FrameTransform } from './align/transform.js';
import type { MeasureOptions } from './measure/index.js';
import { DEFAULT_SWITCH_MARGIN } from './merge/depth-state.js';
import {
  allocateBuffers,
  cellSizeFor,
  pyramidLevelsFor,
  type SharedBuffers,
  type StackGeometry,
  type UpsampleBuffers,
} from './workers/layout.js';
import { WorkerPool } from './workers/pool.js';
import type { Frame, MeasureName, MergeMethod } from './types.js';

export const DEFAULT_METHOD: MergeMethod = 'depthmap';
export const DEFAULT_MEASURE: MeasureName = 'laplacian';
/** The winning frame index is a byte per pixel. */
export const MAX_FRAMES = 255;

export interface StackerOptions extends MeasureOptions {
  method?: MergeMethod;
  measure?: MeasureName;
  /** Worker threads; default: every core. */
  threads?: number;
  /** Relative margin a frame must beat the best by to take a pixel (hysteresis against noise). */
  switchMargin?: number;
  /** Frames may come with a warp (alignment): keep a buffer for the raw frame awaiting resampling. */
  aligned?: boolean;
  /** Side of the cells focus is decided on: 1, 2 or 4 pixels; default by frame size (see layout.ts). */
  cell?: 1 | 2 | 4;
}

interface MergeJob {
  k: number;
  slot: number;
  warp: WarpSpec | null;
  coverage: Int32Array | null;
  releaseSource: () => void;
}

/** Per frame, each step's time on the slowest worker (ms), waits for the other workers excluded. */
export interface FrameTiming {
  /** Resampling into the reference geometry (0 when the frame needed none). */
  warpMs: number;
  /** Focus measure and raw decision (and, for the pyramid, the first REDUCE). */
  measureMs: number;
  /** Everything after: pyramid levels, consistency filter, winner update. */
  mergeMs: number;
}

export interface StackResult {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  /** The stacked image, interleaved, in the inputs' sample type. */
  image: Uint8Array | Uint16Array;
  /** Per pixel, the fractional index of the frame in focus (0 = first frame added). */
  depth: Float32Array;
  /** Per pixel, 0–255: how decisively one frame was sharper than the average frame. */
  confidence: Uint8Array;
  frames: number;
  method: MergeMethod;
  measure: MeasureName;
  transforms: FrameTransform[];
  timings: FrameTiming[];
}

export class Stacker {
  readonly method: MergeMethod;
  readonly measure: MeasureName;
  private readonly options: StackerOptions;
  private readonly pool: WorkerPool;
  private geometry: StackGeometry | null = null;
  private buffers: SharedBuffers | null = null;
  private slots: (Uint8Array | Uint16Array)[] = [];
  private raw: Uint8Array | Uint16Array | null = null;
  private sourceFree: Promise<void> = Promise.resolve();
  /** Per slot, settles when the merge reading it is done and the slot may take the next frame. */
  private slotFree: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  private frames = 0;
  private busy: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private finished = false;
  private readonly transforms: FrameTransform[] = [];
  private readonly timings: FrameTiming[] = [];

  constructor(options: StackerOptions = {}) {
    this.options = options;
    this.method = options.method ?? DEFAULT_METHOD;
    this.measure = options.measure ?? DEFAULT_MEASURE;
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new StackscopeError('BAD_ARGUMENT', `threads must be a whole number ≥ 1, got ${threads}`);
    }
    // Started now so the threads boot while the caller decodes the first frame.
    this.pool = new WorkerPool(threads);
  }

  get frameCount(): number {
    return this.frames;
  }

  /**
   * Takes a frame into the stack; resolves once the frame is copied and the caller may reuse it.
   * With a warp (alignment to the reference, brightness gains), the frame is resampled into the
   * reference geometry first, once; cells it does not cover are left to the frames that do.
   */
  async add(frame: Frame, warp: WarpSpec | null = null): Promise<void> {
    if (this.finished) throw new StackscopeError('STACKER_STATE', 'add() after finish()');
    // With two slots, wait for the merge two frames back (the one reading this slot), not for the
    // previous one: the copy below then overlaps the workers' merge of the previous frame.
    const slot = this.frames % Math.max(1, this.slots.length);
    await this.slotFree[slot];
    if (this.failure) throw this.failure;
    if (this.frames >= MAX_FRAMES) {
      throw new StackscopeError('STACK_TOO_LONG', `a stack holds at most ${MAX_FRAMES} frames`);
    }
    if (!this.geometry) await this.start(frame);
    this.checkMatches(frame);
    if (warp && !this.raw) {
      throw new StackscopeError(
        'STACKER_STATE',
        'a frame with a warp was added to a stacker created without aligned: true',
      );
    }
    let coverage: Int32Array | null = null;
    let releaseSource = () => {};
    if (warp) {
      // The raw buffer is single: wait until the previous warp has read it.
      await this.sourceFree;
      this.raw!.set(frame.data);
      this.sourceFree = new Promise<void>((resolve) => (releaseSource = resolve));
      const g = this.geometry!;
      coverage = coverageIntervals(warp.transform, g.width, g.height, g.cell);
    } else {
      this.slots[slot].set(frame.data);
    }
    const k = this.frames++;
    this.transforms.push({ ...(warp?.transform ?? IDENTITY) });
    const job: MergeJob = { k, slot, warp, coverage, releaseSource };
    // Queued now, behind the previous frame's steps (the pool keeps their order): the workers need
    // no word from this thread between steps, however long the next frame takes to come (its decode,
    // its downscale, its estimate).
    const merged = this.failure
      ? Promise.resolve()
      : this.merge(job).catch((error: unknown) => {
          this.failure ??= error;
        });
    this.busy = Promise.all([this.busy, merged.finally(releaseSource)]).then(() => {});
    this.slotFree[slot] = this.busy;
  }

  /**
   * The stack so far, for a live preview: the depthmap's running composite (each pixel from the
   * sharpest frame yet), as a view of shared memory — encode or copy it at once. Workers may be
   * writing a row meanwhile, harmless for a preview. Null before the first frame, and for pyramid
   * (its composite exists only after the collapse in finish()).
   */
  previewFrame(): Frame | null {
    const g = this.geometry;
    const composite = this.buffers?.composite;
    if (!g || !composite || this.frames === 0) return null;
    return {
      width: g.width,
      height: g.height,
      channels: g.channels,
      bitDepth: g.bitDepth,
      data: g.bitDepth === 16 ? new Uint16Array(composite) : new Uint8Array(composite),
    };
  }

  async finish(): Promise<StackResult> {
    if (this.finished) throw new StackscopeError('STACKER_STATE', 'finish() called twice');
    this.finished = true;
    try {
      await this.busy;
      if (this.failure) throw this.failure;
      if (!this.geometry || !this.buffers)
        throw new StackscopeError('STACK_EMPTY', 'no frame was added to the stack');
      const g = this.geometry;
      const b = this.buffers;
      const last = this.frames - 1;
      await this.pool.run('depth', () => ({ lastFrame: last }));
      await this.pool.run('smoothConfidence');
      let depth = b.score;
      let confidence = b.mask;
      if (g.cell > 1) {
        const out: UpsampleBuffers = {
          depth: new SharedArrayBuffer(g.width * g.height * 4),
          confidence: new SharedArrayBuffer(g.width * g.height),
        };
        await this.pool.run('upsample', () => ({ ...out }));
        ({ depth, confidence } = out);
      }
      if (this.method === 'pyramid') {
        await this.pool.run('collapseResidual', () => ({ frames: this.frames }));
        for (let level = g.levels - 1; level >= 0; level--)
          await this.pool.run('collapse', () => ({ level }));
      }
      await this.pool.run('fallback', () => ({ frames: this.frames, confidence }));
      const imageBuffer = this.method === 'pyramid' ? b.frames[0] : b.composite!;
      return {
        width: g.width,
        height: g.height,
        channels: g.channels,
        bitDepth: g.bitDepth,
        image: g.bitDepth === 16 ? new Uint16Array(imageBuffer) : new Uint8Array(imageBuffer),
        depth: new Float32Array(depth),
        confidence: new Uint8Array(confidence),
        frames: this.frames,
        method: this.method,
        measure: this.measure,
        transforms: this.transforms,
        timings: this.timings,
      };
    } finally {
      await this.pool.close();
    }
  }

  /** Stops the workers without results (cancel, or an error in the caller). */
  async close(): Promise<void> {
    this.finished = true;
    await this.busy;
    await this.pool.close();
  }

  private async start(frame: Frame): Promise<void> {
    const geometry: StackGeometry = {
      width: frame.width,
      height: frame.height,
      channels: frame.channels,
      bitDepth: frame.bitDepth,
      method: this.method,
      levels: this.method === 'pyramid' ? pyramidLevelsFor(frame.width, frame.height) : 0,
      cell: this.options.cell ?? cellSizeFor(frame.width, frame.height),
    };
    const buffers = allocateBuffers(geometry, this.options.aligned ?? false);
    const o = this.options;
    await this.pool.run('init', (index) => ({
      geometry,
      buffers,
      measure: this.measure,
      measureOptions: { windowRadius: o.windowRadius, fftWindow: o.fftWindow, fftStride: o.fftStride },
      switchMargin: o.switchMargin ?? DEFAULT_SWITCH_MARGIN,
      index,
      count: this.pool.size,
      background: backgroundWork(),
    }));
    this.geometry = geometry;
    this.buffers = buffers;
    if (buffers.source)
      this.raw = geometry.bitDepth === 16 ? new Uint16Array(buffers.source) : new Uint8Array(buffers.source);
    this.slots = buffers.frames.map((f) =>
      geometry.bitDepth === 16 ? new Uint16Array(f) : new Uint8Array(f),
    );
  }

  private checkMatches(frame: Frame): void {
    const g = this.geometry!;
    const expected = g.width * g.height * g.channels;
    if (frame.width !== g.width || frame.height !== g.height) {
      throw new StackscopeError(
        'INPUT_MISMATCH',
        `frame is ${frame.width}×${frame.height}, but the stack's first frame is ${g.width}×${g.height}`,
      );
    }
    if (frame.channels !== g.channels || frame.bitDepth !== g.bitDepth || frame.data.length !== expected) {
      throw new StackscopeError(
        'INPUT_MISMATCH',
        `frame has ${frame.channels} channel(s) at ${frame.bitDepth} bits, the stack ${g.channels} at ${g.bitDepth}`,
      );
    }
  }

  /** Sends a frame's steps to the pool at once; resolves when the last is done. */
  private merge(job: MergeJob): Promise<void> {
    const { k, slot, warp, coverage } = job;
    const warped = warp
      ? this.pool
          .run('warp', () => ({ slot, spec: warp }))
          .then((ms) => {
            job.releaseSource();
            return ms;
          })
      : Promise.resolve(0);
    const measured = this.pool.run('measure', () => ({ frame: k, slot, coverage }));
    const rest: Promise<number>[] = [];
    if (this.method === 'pyramid') {
      for (let level = 0; level < this.geometry!.levels; level++)
        rest.push(this.pool.run('reduce', () => ({ level })));
    }
    rest.push(this.pool.run('update', () => ({ frame: k, slot, coverage })));
    if (this.method === 'pyramid') rest.push(this.pool.run('updateLevels'));
    // The workers' own times: this thread may hear of a step's end long after it (it is busy).
    return Promise.all([warped, measured, ...rest]).then(([warpMs, measureMs, ...merge]) => {
      this.timings.push({ warpMs, measureMs, mergeMs: merge.reduce((a, b) => a + b, 0) });
    });
  }
}
