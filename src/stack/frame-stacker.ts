// Stacks frames as they arrive (from files or from the camera): checks their size, aligns each to
// the reference, and feeds the incremental Stacker. stackFiles and the capture jobs both use it.
import { InputError, StackscopeError } from '../errors.js';
import type { AlignMode, AlignmentReport } from './align/aligner.js';
import { BackgroundAligner } from './align/background-aligner.js';
import { Stacker, type StackerOptions, type StackResult } from './stacker.js';
import type { Frame } from './types.js';

export interface FrameStackerOptions extends StackerOptions {
  align?: AlignMode;
}

export interface FrameStackerResult extends StackResult {
  /**
   * Per frame, what its alignment took (ms): the downscale and the estimate, each timed where it ran
   * (wall time, so it grows when the stacking threads share the cores), not the waits between.
   */
  alignMs: number[];
  alignment: AlignmentReport[];
  finishMs: number;
}

export class FrameStacker {
  private readonly aligner: BackgroundAligner;
  private readonly stacker: Stacker;
  private readonly alignMs: number[] = [];
  private readonly alignment: AlignmentReport[] = [];
  // Only the size and where it came from: holding the first Frame would keep its pixels alive.
  private expected: { width: number; height: number; source: string } | null = null;
  /** Where the reference came from: a frame added from there is the reference, and needs no estimate. */
  private referenceSource: string | null = null;
  private finished = false;

  constructor(options: FrameStackerOptions) {
    this.aligner = new BackgroundAligner(options.align ?? 'auto');
    this.stacker = new Stacker({ ...options, aligned: this.aligner.enabled });
  }

  get alignmentEnabled(): boolean {
    return this.aligner.enabled;
  }

  get added(): number {
    return this.alignment.length;
  }

  /** The frame others are aligned to; without a call, the first frame added is the reference. */
  setReference(frame: Frame, source: string): void {
    this.checkSize(frame, source);
    this.aligner.setReference(frame);
    this.referenceSource = source;
  }

  /** Aligns and merges one frame; resolves once the stacker has its own copy (the frame can be reused). */
  async add(frame: Frame, source: string): Promise<AlignmentReport> {
    // Said here: the alignment thread, closed by finish(), would answer with its own error.
    if (this.finished) throw new StackscopeError('STACKER_STATE', 'add() after finish()');
    // Checked before alignment, which reads the frame as the reference's size.
    this.checkSize(frame, source);
    if (this.referenceSource === null) this.setReference(frame, source);
    const { report, warp, costMs } =
      source === this.referenceSource
        ? await this.aligner.alignReference(frame.channels)
        : await this.aligner.align(frame);
    this.alignMs.push(costMs);
    this.alignment.push(report);
    try {
      await this.stacker.add(frame, warp);
    } catch (error) {
      if (error instanceof StackscopeError && error.code === 'INPUT_MISMATCH')
        throw new InputError('INPUT_MISMATCH', source, error.message);
      throw error;
    }
    return report;
  }

  /** See Stacker.previewFrame: the running composite (depthmap), or null. */
  previewFrame(): Frame | null {
    return this.stacker.previewFrame();
  }

  async finish(): Promise<FrameStackerResult> {
    this.finished = true;
    // Every frame is estimated by now: the alignment thread's work is done.
    await this.aligner.close();
    const t0 = performance.now();
    const result = await this.stacker.finish();
    return { ...result, alignMs: this.alignMs, alignment: this.alignment, finishMs: performance.now() - t0 };
  }

  /** Releases the worker threads; safe after finish() or an error. */
  async close(): Promise<void> {
    await Promise.all([this.stacker.close(), this.aligner.close()]);
  }

  private checkSize(frame: Frame, source: string): void {
    this.expected ??= { width: frame.width, height: frame.height, source };
    const e = this.expected;
    if (frame.width !== e.width || frame.height !== e.height) {
      throw new InputError(
        'INPUT_MISMATCH',
        source,
        `frame is ${frame.width}×${frame.height}, but ${e.source} is ${e.width}×${e.height}`,
      );
    }
  }
}
