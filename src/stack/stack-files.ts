// Stacks a list of image files: decode each (sharp), align it to the reference, and feed the
// incremental Stacker, overlapping the decode of frame k+1 with the merge of frame k. Used by
// `stackscope stack` and offline jobs.
import { InputError, StackscopeError } from '../errors.js';
import { FrameAligner, type AlignMode, type AlignmentReport } from './align/aligner.js';
import { decodeFile } from './io.js';
import { Stacker, type StackerOptions, type StackResult } from './stacker.js';
import type { Frame } from './types.js';

export interface FileProgress {
  done: number;
  total: number;
  file: string;
}

export interface FilesStackOptions extends StackerOptions {
  align?: AlignMode;
  /** The frame the others are aligned to: first, middle, or an index from 0. */
  reference?: 'first' | 'middle' | number;
}

export interface FilesStackResult extends StackResult {
  decodeMs: number[];
  alignMs: number[];
  alignment: AlignmentReport[];
  referenceIndex: number;
  finishMs: number;
}

export function referenceIndexOf(reference: FilesStackOptions['reference'], frames: number): number {
  if (reference === undefined || reference === 'first') return 0;
  if (reference === 'middle') return Math.floor((frames - 1) / 2);
  if (!Number.isInteger(reference) || reference < 0 || reference >= frames) {
    throw new StackscopeError(
      'BAD_ARGUMENT',
      `--reference: frame ${reference + 1} does not exist (the stack has ${frames})`,
    );
  }
  return reference;
}

export async function stackFiles(
  files: string[],
  options: FilesStackOptions,
  onProgress: (p: FileProgress) => void = () => {},
): Promise<FilesStackResult> {
  if (files.length === 0) throw new StackscopeError('STACK_EMPTY', 'no input images to stack');
  const aligner = new FrameAligner(options.align ?? 'auto');
  const referenceIndex = referenceIndexOf(options.reference, files.length);
  const stacker = new Stacker({ ...options, aligned: aligner.enabled });
  const decodeMs: number[] = [];
  const alignMs: number[] = [];
  const alignment: AlignmentReport[] = [];
  let channels: 1 | 3 | undefined;
  // Only the size: holding the first Frame would keep its pixels alive for the whole stack.
  let expected: { width: number; height: number } | null = null;
  const decode = async (file: string): Promise<Frame> => {
    const t0 = performance.now();
    const frame = await decodeFile(file, { channels });
    decodeMs.push(performance.now() - t0);
    channels ??= frame.channels;
    return frame;
  };
  try {
    // The reference is decoded first, kept until its turn, and then stacked like any frame.
    let reference: Frame | null = null;
    if (aligner.enabled) {
      reference = await decode(files[referenceIndex]);
      expected = { width: reference.width, height: reference.height };
      aligner.setReference(reference);
    }
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      const frame = i === referenceIndex && reference ? reference : await decode(file);
      if (i === referenceIndex) reference = null;
      // Checked before alignment, which reads the frame as the reference's size.
      expected ??= { width: frame.width, height: frame.height };
      if (frame.width !== expected.width || frame.height !== expected.height) {
        const first = files[aligner.enabled ? referenceIndex : 0];
        throw new InputError(
          'INPUT_MISMATCH',
          file,
          `frame is ${frame.width}×${frame.height}, but ${first} is ${expected.width}×${expected.height}`,
        );
      }
      const t0 = performance.now();
      const { report, warp } = aligner.align(frame);
      alignMs.push(performance.now() - t0);
      alignment.push(report);
      try {
        await stacker.add(frame, warp);
      } catch (error) {
        if (error instanceof StackscopeError && error.code === 'INPUT_MISMATCH') {
          throw new InputError('INPUT_MISMATCH', file, error.message);
        }
        throw error;
      }
      onProgress({ done: i + 1, total: files.length, file });
    }
    const t0 = performance.now();
    const result = await stacker.finish();
    return { ...result, decodeMs, alignMs, alignment, referenceIndex, finishMs: performance.now() - t0 };
  } catch (error) {
    await stacker.close().catch(() => {});
    throw error;
  }
}
