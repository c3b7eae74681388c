// What a job does once it runs: a capture-and-stack on the rig, or an offline stack of frames on
// disk (a restack of kept frames, an upload). Each records its frames, progress and results in the store.
import { basename } from 'node:path';
import type { Config } from '../config/index.js';
import type { EventBus } from '../events.js';
import { captureSettingsOf } from '../rig/capture-settings.js';
import type { Rig } from '../rig/types.js';
import type { AlignmentReport } from '../stack/align/aligner.js';
import sharp from 'sharp';
import { writeFileAtomic } from '../stack/io.js';
import { stackFiles } from '../stack/stack-files.js';
import type { Frame } from '../stack/types.js';
import { writeStackOutputs, type StackOutputPaths } from '../stack/outputs.js';
import { DiskGuard, estimateFrameBytes } from '../store/disk-space.js';
import { referenceShotName } from '../store/job-layout.js';
import type { JobStore } from '../store/job-store.js';
import type { Manifest } from '../store/manifest.js';
import { removeFrames } from '../store/retention.js';
import { captureAndStack } from './capture-stack.js';
import type { CaptureRequest, StackSettings } from './requests.js';

export interface RunnerDeps {
  rig: Rig;
  store: JobStore;
  bus: EventBus;
  config: Config;
}

/** The running composite during a capture, replaced after each merged frame (see capture-stack.ts). */
export const PREVIEW_FILE = 'preview.jpg';
const PREVIEW_MAX_SIDE = 1024;

async function writeStackPreview(frame: Frame, path: string): Promise<void> {
  const jpeg = await sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), {
    raw: {
      width: frame.width,
      height: frame.height,
      channels: frame.channels,
      ...(frame.bitDepth === 16 ? { depth: 'ushort' as const } : {}),
    },
  })
    .resize({ width: PREVIEW_MAX_SIDE, height: PREVIEW_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  await writeFileAtomic(path, jpeg);
}

export const RESULT_FILES = {
  image: 'result.jpg',
  depth: 'depth.png',
  depthPreview: 'depth-preview.png',
  confidence: 'confidence.png',
} as const;

function outputsOf(store: JobStore, id: string): StackOutputPaths {
  return {
    image: store.resultPath(id, RESULT_FILES.image),
    depthMap: store.resultPath(id, RESULT_FILES.depth),
    depthPreview: store.resultPath(id, RESULT_FILES.depthPreview),
    confidence: store.resultPath(id, RESULT_FILES.confidence),
  };
}

export function stackOptionsOf(config: Config, settings: StackSettings = {}) {
  return {
    method: settings.method ?? config.jobs.method,
    measure: settings.measure ?? config.jobs.measure,
    align: settings.align ?? config.jobs.align,
  };
}

/** The frame size a job will capture, for the disk estimate: the configured size, else the largest Pi sensor's. */
export function expectedFrameSize(config: Config, rig: Rig): { width: number; height: number } {
  if (rig.kind === 'simulated')
    return { width: config.rig.simulated.width, height: config.rig.simulated.height };
  return { width: config.rig.camera.width ?? 4056, height: config.rig.camera.height ?? 3040 };
}

function alignmentRecord(a: AlignmentReport): Record<string, unknown> {
  const { dx, dy, scale, rotationDeg, confidence } = a.transform;
  return {
    dx,
    dy,
    scale,
    rotationDeg,
    confidence,
    gains: a.gains,
    source: a.source,
    trusted: a.trusted,
    resampled: a.resampled,
  };
}

export async function runCapture(
  deps: RunnerDeps,
  job: Manifest,
  planes: number[],
  request: CaptureRequest,
  signal: AbortSignal,
  setStatus: (status: 'capturing' | 'stacking') => Promise<void>,
): Promise<Partial<Manifest>> {
  const { rig, store, bus, config } = deps;
  const id = job.id;
  const settings = captureSettingsOf(config.rig.camera, request.camera);
  const { width, height } = expectedFrameSize(config, rig);
  const guard = new DiskGuard({
    dir: store.jobsDir,
    reserveBytes: config.jobs.reserveMb * 1e6,
    bytesPerFrame: estimateFrameBytes(width, height, settings.encoding),
    // The store's file system: tests inject a filling disk there.
    statfs: (dir) => store.fs.statfs(dir),
  });
  await setStatus('capturing');
  let stackingAnnounced = false;
  const { result, timings, referenceStageUm } = await captureAndStack({
    rig,
    planes,
    settleMs: request.settleMs ?? config.rig.stage.settleMs,
    camera: settings,
    stack: stackOptionsOf(config, request.stack),
    signal,
    returnToStart: request.returnToStart ?? config.jobs.returnToStart,
    sink: {
      beforeCapture: (index) => guard.beforeFrame(index).then(() => {}),
      framePath: (index, extension) => store.framePath(id, index, extension),
      referencePath: (extension) => store.resultPath(id, referenceShotName(extension)),
      outputs: outputsOf(store, id),
      frameCaptured: async (index, record) => {
        const e = record.exposure;
        await store.addFrame(id, {
          index,
          file: basename(record.file),
          stageUm: record.stageUm,
          capturedAt: record.capturedAt,
          exposure: e
            ? {
                shutterUs: e.shutterUs,
                analogueGain: e.analogueGain,
                ...(e.awbGains ? { awbRed: e.awbGains[0], awbBlue: e.awbGains[1] } : {}),
              }
            : undefined,
        });
      },
      preview: async (frame, stacked) => {
        await writeStackPreview(frame, store.resultPath(id, PREVIEW_FILE));
        // Previews go on after the last capture: the status must not flip back from stacking.
        bus.emit({ type: 'job', id, status: stackingAnnounced ? 'stacking' : 'capturing', preview: stacked });
      },
      frameStacked: async (index, alignment) => {
        // Progress rides on the writes that record frames: each durable manifest write costs two
        // fsyncs, ~10 ms each on an SD card. A merge's record is lazy: it shares the next frame's
        // write (addFrame), so a step costs one manifest write, not two; the last one goes at once.
        await store.update(
          id,
          (m) => {
            const frame = m.frames.find((f) => f.index === index);
            if (frame) frame.alignment = alignmentRecord(alignment);
            m.progress.stacked = Math.max(m.progress.stacked, index + 1);
          },
          { lazy: index < planes.length - 1 },
        );
      },
      flush: () => store.flush(id),
    },
    onProgress: (progress) => {
      bus.emit({
        type: 'job',
        id,
        status: progress.captured === progress.total ? 'stacking' : 'capturing',
        progress,
        latestFrame: progress.captured - 1,
      });
      if (progress.captured === progress.total && !stackingAnnounced) {
        stackingAnnounced = true;
        setStatus('stacking').catch(() => {});
      }
    },
  });
  if (!(request.keepFrames ?? config.jobs.keepFrames)) await removeFrames(store, id, { ownJob: true });
  return {
    ...(referenceStageUm !== null ? { referenceStageUm } : {}),
    results: {
      image: RESULT_FILES.image,
      depth: RESULT_FILES.depth,
      depthPreview: RESULT_FILES.depthPreview,
      confidence: RESULT_FILES.confidence,
    },
    timings: {
      totalMs: timings.totalMs,
      moveMsMean: mean(timings.moveMs),
      captureMsMean: mean(timings.captureMs),
      stackWaitMsMean: mean(timings.stackWaitMs),
      // Steady state (the first step has no merge to overlap with): the loop's own time per step.
      loopOwnMsMean: mean(timings.ownMs.slice(1)),
      loopOwnMsMax: Math.max(0, ...timings.ownMs.slice(1)),
      recordWaitMsMean: mean(timings.recordWaitMs),
      finishMs: timings.finishMs,
      encodeMs: timings.encodeMs,
      width: result.width,
      height: result.height,
    },
  };
}

/** Stacks frames already on disk (kept frames of another job, or uploaded ones) into this job's results. */
export async function runOffline(
  deps: RunnerDeps,
  job: Manifest,
  files: string[],
  settings: StackSettings,
  signal: AbortSignal,
  setStatus: (status: 'stacking') => Promise<void>,
): Promise<Partial<Manifest>> {
  const { store, bus, config } = deps;
  await setStatus('stacking');
  const started = performance.now();
  const result = await stackFiles(
    files,
    { ...stackOptionsOf(config, settings), signal },
    ({ done, total }) => {
      store
        .update(job.id, (m) => {
          m.progress = { captured: total, stacked: done, total };
        })
        .catch(() => {});
      bus.emit({
        type: 'job',
        id: job.id,
        status: 'stacking',
        progress: { captured: total, stacked: done, total },
      });
    },
  );
  const encodeMs = await writeStackOutputs(result, outputsOf(store, job.id));
  return {
    results: {
      image: RESULT_FILES.image,
      depth: RESULT_FILES.depth,
      depthPreview: RESULT_FILES.depthPreview,
      confidence: RESULT_FILES.confidence,
    },
    // Untrusted estimates are reported here, as the CLI's --json does (docs/alignment.md).
    ...(result.alignment.some((a) => a.source !== 'identity')
      ? { alignment: result.alignment.map(alignmentRecord), referenceIndex: result.referenceIndex }
      : {}),
    timings: {
      totalMs: performance.now() - started,
      finishMs: result.finishMs,
      encodeMs,
      width: result.width,
      height: result.height,
    },
  };
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}
