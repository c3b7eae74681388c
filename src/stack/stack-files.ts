// Stacks a list of image files: decode each (sharp), align it to the reference, and feed the
// incremental stacker (FrameStacker), overlapping the decode of frame k+1 with the merge of frame k. Used by
// `stackscope stack` and offline jobs.
import { totalmem } from 'node:os';
import { StackscopeError } from '../errors.js';
import { FrameStacker, type FrameStackerOptions, type FrameStackerResult } from './frame-stacker.js';
import { decodeFile } from './io.js';
import { DEFAULT_METHOD } from './stacker.js';
import type { Frame, MergeMethod } from './types.js';

/**
 * Frames decoded ahead of the one being stacked. Unaligned: none (the decode overlaps the merge, and
 * peak memory is the tighter target). Aligning, each frame waits for its estimate (~60 ms at 12 MP,
 * on the alignment thread) and the workers wait for it, never the other way round: a depthmap stack
 * then decodes two ahead, so sharp can decode two frames at once when a core is free (12 MP × 20:
 * 6 % less wall time in five alternated pairs, +36 MB). A pyramid stack keeps its workers busy, and
 * a second frame decoding only competes with them (5 % slower): one ahead. Below 2 GB of memory (a
 * Pi Zero 2 W, a 1 GB Pi 4) memory is what runs out first: none ahead, 40–70 MB less at 12 MP for
 * 4–15 % more time.
 */
export function framesAhead(aligned: boolean, method: MergeMethod, memoryBytes = totalmem()): number {
  if (!aligned || memoryBytes < 2 * 2 ** 30) return 0;
  return method === 'pyramid' ? 1 : 2;
}

export interface FileProgress {
  done: number;
  total: number;
  file: string;
}

export interface FilesStackOptions extends FrameStackerOptions {
  /** Aborting stops between frames with CANCELLED (offline jobs in the daemon). */
  signal?: AbortSignal;
  /**
   * The frame the others are aligned to: first, middle (the default), or an index from 0. A stack of
   * files can start from any frame, and the middle of a focus sweep matches the most frames: its first
   * frame is the sweep's most defocused end. On the scorpion stack the first frame left 7 of 14
   * estimates untrusted (stacked with the last good transform: tripled outlines), the middle none.
   * A live capture, which cannot wait for its middle frame, takes a shot before its sweep instead,
   * inside it (jobs/capture-stack.ts).
   */
  reference?: 'first' | 'middle' | number;
}

export interface FilesStackResult extends FrameStackerResult {
  decodeMs: number[];
  referenceIndex: number;
}

export function referenceIndexOf(reference: FilesStackOptions['reference'], frames: number): number {
  if (reference === 'first') return 0;
  if (reference === undefined || reference === 'middle') return Math.floor((frames - 1) / 2);
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
  const referenceIndex = referenceIndexOf(options.reference, files.length);
  const stacker = new FrameStacker(options);
  const decodeMs: number[] = [];
  let channels: 1 | 3 | undefined;
  const decode = async (file: string): Promise<Frame> => {
    const t0 = performance.now();
    const frame = await decodeFile(file, { channels });
    decodeMs.push(performance.now() - t0);
    channels ??= frame.channels;
    return frame;
  };
  try {
    // The reference is decoded first, kept until its turn, and then stacked like any frame (the
    // stacker knows it by its file).
    let reference: Frame | null = null;
    if (stacker.alignmentEnabled) {
      reference = await decode(files[referenceIndex]);
      stacker.setReference(reference, files[referenceIndex]);
    }
    // Frames in flight stay a fixed number, whatever the stack's length.
    const ahead = framesAhead(stacker.alignmentEnabled, options.method ?? DEFAULT_METHOD);
    const next = (i: number): Promise<Frame> => {
      const frame = i === referenceIndex && reference ? Promise.resolve(reference) : decode(files[i]);
      // Its failure is reported where it is awaited; until then (or if the stack fails first) it must
      // not count as unhandled.
      frame.catch(() => {});
      return frame;
    };
    const pending: Promise<Frame>[] = [];
    let requested = 0;
    for (let i = 0; i < files.length; i++) {
      if (options.signal?.aborted) throw new StackscopeError('CANCELLED', 'the stack was cancelled');
      const file = files[i];
      if (requested === i) pending.push(next(requested++));
      const frame = await pending.shift()!;
      if (i === referenceIndex) reference = null;
      while (requested < Math.min(files.length, i + 1 + ahead)) pending.push(next(requested++));
      await stacker.add(frame, file);
      onProgress({ done: i + 1, total: files.length, file });
    }
    const result = await stacker.finish();
    return { ...result, decodeMs, referenceIndex };
  } catch (error) {
    await stacker.close().catch(() => {});
    throw error;
  }
}
