// Worker thread: the alignment estimates of one stack (AlignmentEstimator), in stack order, from the
// small frames the caller's thread made. Replies carry the request's id; a failure is a reply too.
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../thread-priority.js';
import { AlignmentEstimator, type AlignmentResult } from './aligner.js';
import type { CanvasGeometry, SmallFrame } from './downscale.js';
import type { EstimateWorkerData } from './background-aligner.js';

export type EstimateRequest =
  | { op: 'reference'; small: SmallFrame; geometry: CanvasGeometry }
  | { op: 'alignReference'; channels: number }
  | { op: 'align'; small: SmallFrame };

export type EstimateReply =
  | { id: number; ok: true; result: AlignmentResult | null; ms: number }
  | { id: number; ok: false; message: string };

const init = workerData as EstimateWorkerData;
if (init.background) lowerThreadPriority();
const estimator = new AlignmentEstimator(init.mode, init.size);

parentPort!.on('message', (request: EstimateRequest & { id: number }) => {
  let reply: EstimateReply;
  try {
    const started = performance.now();
    let result: AlignmentResult | null = null;
    if (request.op === 'reference') estimator.setReference(request.small, request.geometry);
    else if (request.op === 'alignReference') result = estimator.alignReference(request.channels);
    else result = estimator.align(request.small);
    reply = { id: request.id, ok: true, result, ms: performance.now() - started };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
