// Runs one capture-and-stack: for each planned plane, move, settle, capture, and merge the frame into
// the stacker while the stage moves on to the next plane and the frame's record is written; then the results.
import { rm } from 'node:fs/promises';
import { StackscopeError } from '../errors.js';
import type { AlignmentReport } from '../stack/align/aligner.js';
import { FrameStacker, type FrameStackerOptions, type FrameStackerResult } from '../stack/frame-stacker.js';
import { decodeFile } from '../stack/io.js';
import { writeStackOutputs, type StackOutputPaths } from '../stack/outputs.js';
import type { CapturedFrame, CaptureSettings, Rig } from '../rig/types.js';
import type { Frame } from '../stack/types.js';
import { RecordKeeper } from './record-keeper.js';

/**
 * Where a job keeps its frames and results, and how it records them (the store, in the daemon). The
 * records land behind the capture loop: frameCaptured(k) is asked for once frameCaptured(k − 1) has
 * resolved, frameStacked(k) once frameCaptured(k) has; frameStacked calls may overlap a frameCaptured
 * one and must be applied in the order asked (the store's per-job queue does that).
 */
export interface CaptureStackSink {
  /** Called before each capture: may refuse (e.g. DISK_FULL) to stop the stack cleanly. */
  beforeCapture?(index: number): Promise<void>;
  framePath(index: number, extension: string): string;
  /**
   * Where to put the reference frame taken before the sweep (see referenceShot); the file is removed
   * once decoded. Without it, the first frame is the reference.
   */
  referencePath?(extension: 'jpg' | 'png'): string;
  outputs: StackOutputPaths;
  frameCaptured(
    index: number,
    record: { file: string; stageUm: number; capturedAt: string; exposure?: CapturedFrame['exposure'] },
  ): Promise<void>;
  frameStacked(index: number, alignment: AlignmentReport): Promise<void>;
  /** Lands every record asked for so far now, rather than when the sink would (a lazy one's delay). */
  flush?(): Promise<void>;
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
  /** Where the reference frame was taken before the sweep (µm); null when the first frame was the reference. */
  referenceStageUm: number | null;
  /** Per step (index = frame) unless a single number; ms. */
  timings: {
    captureMs: number[];
    /** The move and the settle time after it. */
    moveMs: number[];
    /** Waiting for the stacker to take the previous frame. */
    stackWaitMs: number[];
    /** Waiting, after the move, for the record two frames back to land (what was not hidden). */
    recordWaitMs: number[];
    /** The loop's own time: the step's wall time less moveMs, captureMs and stackWaitMs. */
    ownMs: number[];
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
  const timings = {
    captureMs: [] as number[],
    moveMs: [] as number[],
    stackWaitMs: [] as number[],
    recordWaitMs: [] as number[],
    ownMs: [] as number[],
  };
  // Progress counts records that landed: what the manifest says, not what is still on its way.
  let captured = 0;
  let stacked = 0;
  let channels: 1 | 3 | undefined;
  const records = new RecordKeeper();
  /**
   * Each frame's capture record. They are asked for one after another, each once the one before has
   * landed, so after a failed one no later frame is listed; a frame's merge record follows its own.
   */
  const capturedRecords: Promise<void>[] = [];
  // The merge of frame k runs while the stage moves to k + 1. At most one frame is in flight: a slow
  // stacker holds the capture back rather than letting decoded frames pile up in memory.
  let inFlight: Promise<void> = Promise.resolve();
  let previewing: Promise<void> | null = null;
  let stageStopped = false;
  const stackFrame = async (index: number, file: string): Promise<void> => {
    let frame: Frame;
    try {
      frame = await decodeFile(file, { channels });
    } catch (error) {
      // A frame its record refused (cut short) fails to decode too: the record's error names the cause.
      await capturedRecords[index];
      throw error;
    }
    channels ??= frame.channels;
    const report = await stacker.add(frame, file);
    records.track(
      capturedRecords[index]
        .then(() => o.sink.frameStacked(index, report))
        .then(() => {
          stacked++;
          o.onProgress?.({ captured, stacked, total });
        }),
    );
    // A preview must never hold the capture back: one at a time, dropped when busy.
    const preview = o.sink.preview && !previewing ? stacker.previewFrame() : null;
    if (preview && o.sink.preview) {
      previewing = o.sink
        .preview(preview, index + 1)
        .catch(() => {})
        .finally(() => {
          previewing = null;
        });
    }
  };
  const moveStage = async (um: number) => {
    try {
      return await stage.moveTo(um, { signal: o.signal });
    } catch (error) {
      // Stopped from outside (POST /api/stage/stop): the stage stays where the user stopped it.
      stageStopped = isCancel(error) && !o.signal?.aborted;
      throw error;
    }
  };
  try {
    await camera.open(o.camera);
    const extension = o.camera.encoding === 'png' ? 'png' : 'jpg';
    const reference = referenceShot(o, stacker.alignmentEnabled, startUm, extension);
    if (reference) {
      throwIfAborted(o.signal);
      if (reference.atUm !== startUm) {
        await moveStage(reference.atUm);
        await sleep(o.settleMs, o.signal);
      }
      try {
        await camera.capture(reference.file, { signal: o.signal });
        const frame = await decodeFile(reference.file);
        channels = frame.channels;
        stacker.setReference(frame, 'the reference frame');
      } finally {
        await rm(reference.file, { force: true });
      }
    }
    for (let i = 0; i < total; i++) {
      const stepStarted = performance.now();
      throwIfAborted(o.signal);
      records.throwIfFailed();
      let t0 = performance.now();
      const position = await moveStage(o.planes[i]);
      await sleep(o.settleMs, o.signal);
      timings.moveMs.push(performance.now() - t0);
      // Frame i − 1's record is written while the stage moves and frame i is taken; frame i is taken
      // only once frame i − 2's has landed. A failed record (disk full, a frame cut short) thus stops
      // the stack at the next step, and at most one record is ever behind.
      t0 = performance.now();
      if (i >= 2) await capturedRecords[i - 2];
      timings.recordWaitMs.push(performance.now() - t0);
      records.throwIfFailed();
      await o.sink.beforeCapture?.(i);
      t0 = performance.now();
      const file = o.sink.framePath(i, extension);
      const shot = await camera.capture(file, { signal: o.signal });
      timings.captureMs.push(performance.now() - t0);
      const entry = {
        file,
        stageUm: position.um,
        capturedAt: new Date().toISOString(),
        exposure: shot.exposure,
      };
      const record = (capturedRecords[i - 1] ?? Promise.resolve()).then(() => o.sink.frameCaptured(i, entry));
      capturedRecords[i] = record;
      records.track(
        record.then(() => {
          captured++;
          o.onProgress?.({ captured, stacked, total });
        }),
      );
      t0 = performance.now();
      await inFlight;
      timings.stackWaitMs.push(performance.now() - t0);
      inFlight = stackFrame(i, file);
      // An error surfaces at the next await of inFlight; until then it must not count as unhandled.
      inFlight.catch(() => {});
      timings.ownMs.push(
        performance.now() - stepStarted - timings.moveMs[i] - timings.captureMs[i] - timings.stackWaitMs[i],
      );
    }
    await inFlight;
    await previewing;
    const result = await stacker.finish();
    const encodeMs = await writeStackOutputs(result, o.sink.outputs);
    await records.drain();
    return {
      result,
      referenceStageUm: reference?.atUm ?? null,
      timings: { ...timings, finishMs: result.finishMs, encodeMs, totalMs: performance.now() - started },
    };
  } finally {
    await inFlight.catch(() => {});
    await previewing;
    // No record may land after the job has ended (the manager writes its status next). Once the
    // capture records have settled every merge record has been asked for: flush writes them all.
    await Promise.allSettled(capturedRecords);
    await o.sink.flush?.().catch(() => {});
    await records.settle();
    await stacker.close().catch(() => {});
    await camera.close().catch(() => {});
    if (o.returnToStart && !stageStopped) await stage.moveTo(startUm).catch(() => {});
  }
}

/**
 * Where an aligning stack takes its reference frame, before the sweep. Where the stage stands, when
 * that is within the sweep: a stack centred on where the user focused (the capture button's, `frames`
 * and `step` requests) then aligns to its sharpest plane, at the cost of one shot and no move.
 * Otherwise at the sweep's middle plane, one move more (there, then to the first plane, inside the
 * planned span, so within the soft limits the plan was checked against). Never the first plane: it
 * is the sweep's most defocused end, and on the scorpion stack aligning to it left 7 of 14 estimates
 * untrusted (docs/alignment.md). Null (unaligned, fewer than 3 planes, no place for the file): the
 * first frame is the reference.
 */
function referenceShot(
  o: CaptureStackOptions,
  aligning: boolean,
  startUm: number,
  extension: 'jpg' | 'png',
): { atUm: number; file: string } | null {
  if (!aligning || !o.sink.referencePath || o.planes.length < 3) return null;
  const low = Math.min(...o.planes);
  const high = Math.max(...o.planes);
  const inside = startUm > low && startUm < high;
  const atUm = inside ? startUm : o.planes[Math.floor((o.planes.length - 1) / 2)];
  return { atUm, file: o.sink.referencePath(extension) };
}

function isCancel(error: unknown): boolean {
  return error instanceof StackscopeError && error.code === 'CANCELLED';
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
