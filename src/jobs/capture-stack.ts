// Runs one capture-and-stack: for each planned plane, move, settle, capture, and merge the frame into
// the incremental stacker while the stage moves on to the next plane; then write the results.
import { StackscopeError } from '../errors.js';
import type { AlignmentReport } from '../stack/align/aligner.js';
import { FrameStacker, type FrameStackerOptions, type FrameStackerResult } from '../stack/frame-stacker.js';
import { decodeFile } from '../stack/io.js';
import { writeStackOutputs, type StackOutputPaths } from '../stack/outputs.js';
import type { CapturedFrame, CaptureSettings, Rig } from '../rig/types.js';
import type { Frame } from '../stack/types.js';

/** Where a job keeps its frames and results, and how it records them (the store, in the daemon). */
export interface CaptureStackSink {
  /** Called before each capture: may refuse (e.g. DISK_FULL) to stop the stack cleanly. */
  beforeCapture?(index: number): Promise<void>;
  framePath(index: number, extension: string): string;
  outputs: StackOutputPaths;
  frameCaptured(
    index: number,
    record: { file: string; stageUm: number; capturedAt: string; exposure?: CapturedFrame['exposure'] },
  ): Promise<void>;
  frameStacked(index: number, alignment: AlignmentReport): Promise<void>;
  /**
   * The running composite after a frame was merged (depthmap only), for a live preview. It is a view
   * of shared memory: encode it before resolving. Skipped while a previous preview is still encoding.
   */
  preview?(frame: Frame, stacked: number): Promise<void>;
}

export interface CaptureStackOptions {
  rig: Pick<Rig, 'stage' | 'camera'>;
  planes: number[];
  settleMs: number;
  camera: CaptureSettings;
  stack: FrameStackerOptions;
  sink: CaptureStackSink;
  signal?: AbortSignal;
  /** Move back to where the stage was before the stack (also after a cancel or a failure). */
  returnToStart?: boolean;
  onProgress?: (progress: { captured: number; stacked: number; total: number }) => void;
}

export interface CaptureStackResult {
  result: FrameStackerResult;
  timings: {
    captureMs: number[];
    moveMs: number[];
    stackWaitMs: number[];
    finishMs: number;
    encodeMs: number;
    totalMs: number;
  };
}

export async function captureAndStack(o: CaptureStackOptions): Promise<CaptureStackResult> {
  const started = performance.now();
  const { stage, camera } = o.rig;
  const startUm = stage.position().um;
  const total = o.planes.length;
  const stacker = new FrameStacker(o.stack);
  const timings = { captureMs: [] as number[], moveMs: [] as number[], stackWaitMs: [] as number[] };
  let captured = 0;
  let stacked = 0;
  let channels: 1 | 3 | undefined;
  // The merge of frame k runs while the stage moves to k + 1. At most one frame is in flight: a slow
  // stacker holds the capture back rather than letting decoded frames pile up in memory.
  let inFlight: Promise<void> = Promise.resolve();
  let previewing: Promise<void> | null = null;
  const stackFrame = async (index: number, file: string): Promise<void> => {
    const frame = await decodeFile(file, { channels });
    channels ??= frame.channels;
    const report = await stacker.add(frame, file);
    await o.sink.frameStacked(index, report);
    stacked++;
    o.onProgress?.({ captured, stacked, total });
    // A preview must never hold the capture back: one at a time, dropped when busy.
    const preview = o.sink.preview && !previewing ? stacker.previewFrame() : null;
    if (preview && o.sink.preview) {
      previewing = o.sink
        .preview(preview, stacked)
        .catch(() => {})
        .finally(() => {
          previewing = null;
        });
    }
  };
  try {
    await camera.open(o.camera);
    const extension = o.camera.encoding === 'png' ? 'png' : 'jpg';
    for (let i = 0; i < total; i++) {
      throwIfAborted(o.signal);
      let t0 = performance.now();
      const position = await stage.moveTo(o.planes[i], { signal: o.signal });
      await sleep(o.settleMs, o.signal);
      timings.moveMs.push(performance.now() - t0);
      await o.sink.beforeCapture?.(i);
      t0 = performance.now();
      const file = o.sink.framePath(i, extension);
      const shot = await camera.capture(file, { signal: o.signal });
      timings.captureMs.push(performance.now() - t0);
      await o.sink.frameCaptured(i, {
        file,
        stageUm: position.um,
        capturedAt: new Date().toISOString(),
        exposure: shot.exposure,
      });
      captured++;
      o.onProgress?.({ captured, stacked, total });
      t0 = performance.now();
      await inFlight;
      timings.stackWaitMs.push(performance.now() - t0);
      inFlight = stackFrame(i, file);
      // An error surfaces at the next await of inFlight; until then it must not count as unhandled.
      inFlight.catch(() => {});
    }
    await inFlight;
    await previewing;
    const result = await stacker.finish();
    const encodeMs = await writeStackOutputs(result, o.sink.outputs);
    return {
      result,
      timings: { ...timings, finishMs: result.finishMs, encodeMs, totalMs: performance.now() - started },
    };
  } finally {
    await inFlight.catch(() => {});
    await previewing;
    await stacker.close().catch(() => {});
    await camera.close().catch(() => {});
    if (o.returnToStart) await stage.moveTo(startUm).catch(() => {});
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new StackscopeError('CANCELLED', 'the stack was cancelled');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new StackscopeError('CANCELLED', 'the stack was cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StackscopeError('CANCELLED', 'the stack was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
