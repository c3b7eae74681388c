// Stacks a list of image files: decode each (sharp) and feed the incremental Stacker, overlapping
// the decode of frame k+1 with the merge of frame k. Used by `stackscope stack` and offline jobs.
import { InputError, StackscopeError } from '../errors.js';
import { decodeFile } from './io.js';
import { Stacker, type StackerOptions, type StackResult } from './stacker.js';

export interface FileProgress {
  done: number;
  total: number;
  file: string;
}

export interface FilesStackResult extends StackResult {
  decodeMs: number[];
  finishMs: number;
}

export async function stackFiles(
  files: string[],
  options: StackerOptions,
  onProgress: (p: FileProgress) => void = () => {},
): Promise<FilesStackResult> {
  if (files.length === 0) throw new StackscopeError('STACK_EMPTY', 'no input images to stack');
  const stacker = new Stacker(options);
  const decodeMs: number[] = [];
  let channels: 1 | 3 | undefined;
  try {
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      const t0 = performance.now();
      const frame = await decodeFile(file, { channels });
      decodeMs.push(performance.now() - t0);
      channels ??= frame.channels;
      try {
        await stacker.add(frame);
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
    return { ...result, decodeMs, finishMs: performance.now() - t0 };
  } catch (error) {
    await stacker.close().catch(() => {});
    throw error;
  }
}
