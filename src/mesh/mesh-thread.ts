// Runs writeMeshFromJob on a worker thread: a 12 MP mesh is seconds of computation, and the daemon's
// event loop drives the stage, the camera and the progress events meanwhile. One thread per build.
import { startWorker } from '../worker-thread.js';
import { ERROR_CATALOGUE, StackscopeError, type ErrorCode } from '../errors.js';
import type { MeshCalibration } from './calibration.js';
import type { MeshFormat } from './encode.js';
import type { MeshSummary, MeshWriteOptions } from './mesh-files.js';

export interface MeshJobRequest {
  jobDir: string;
  format: MeshFormat;
  calibration: MeshCalibration;
  options: MeshWriteOptions & { name?: string };
}

export type MeshWorkerReply =
  { ok: true; summary: MeshSummary } | { ok: false; code?: ErrorCode; message: string };

/** Builds and writes a job's mesh on a worker thread; its errors come back with their own codes. */
export function writeMeshFromJobInWorker(request: MeshJobRequest): Promise<MeshSummary> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(new URL('./mesh-worker.js', import.meta.url), { workerData: request });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    worker.once('message', (reply: MeshWorkerReply) => {
      if (reply.ok) settle(() => resolve(reply.summary));
      else {
        const code = reply.code && reply.code in ERROR_CATALOGUE ? reply.code : 'WORKER_FAILED';
        settle(() => reject(new StackscopeError(code, reply.message)));
      }
    });
    worker.once('error', (error) =>
      settle(() => reject(new StackscopeError('WORKER_FAILED', `mesh worker crashed: ${error.message}`))),
    );
    // A worker that ends without a word (killed, out of memory) must not leave the request hanging.
    worker.once('exit', (code) =>
      settle(() =>
        reject(new StackscopeError('WORKER_FAILED', `mesh worker exited (code ${code}) without a result`)),
      ),
    );
  });
}
