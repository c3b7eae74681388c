// Worker thread: the alignment estimates of one stack (AlignmentEstimator), in stack order, from the
// small frames the caller's thread made. Replies carry the request's id; a failure is a reply too.
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../thread-priority.js';
import { AlignmentEstimator, type AlignmentResult } from './aligner.js';
import { FrameDownscaler, type CanvasGeometry, type SmallFrame } from './downscale.js';
import type { Frame } from '../types.js';
import type { EstimateWorkerData } from './background-aligner.js';

/** A frame by its small image, or the frame itself when its samples are in shared memory. */
export type FrameOrSmall = { small: SmallFrame; frame?: never } | { frame: Frame; small?: never };

export type EstimateRequest = { id: number } & (
  | ({ op: 'reference'; geometry: CanvasGeometry } & FrameOrSmall)
  | { op: 'alignReference'; channels: number }
  | ({ op: 'align' } & FrameOrSmall)
);

export type EstimateReply =
  { id: number; ok: true; result: AlignmentResult | null } | { id: number; ok: false; message: string };

const init = workerData as EstimateWorkerData;
if (init.background) lowerThreadPriority();
const estimator = new AlignmentEstimator(init.mode, init.size);
let downscaler: FrameDownscaler | null = null;
let geometry: CanvasGeometry | null = null;

function smallOf(request: FrameOrSmall): SmallFrame {
  if (request.small) return request.small;
  downscaler ??= new FrameDownscaler();
  return downscaler.downscale(request.frame, geometry!);
}

parentPort!.on('message', (request: EstimateRequest) => {
  let reply: EstimateReply;
  try {
    let result: AlignmentResult | null = null;
    if (request.op === 'reference') {
      geometry = request.geometry;
      estimator.setReference(smallOf(request), geometry);
    } else if (request.op === 'alignReference') result = estimator.alignReference(request.channels);
    else result = estimator.align(smallOf(request));
    reply = { id: request.id, ok: true, result };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
