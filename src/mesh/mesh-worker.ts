// Worker-thread entry: builds one job's mesh (writeMeshFromJob) off the daemon's event loop and posts
// back its summary, or the failure's code and message. Started by mesh-thread.ts, one per build.
import { parentPort, workerData } from 'node:worker_threads';
import { StackscopeError } from '../errors.js';
import { writeMeshFromJob } from './mesh-files.js';
import type { MeshJobRequest, MeshWorkerReply } from './mesh-thread.js';

const request = workerData as MeshJobRequest;

function reply(message: MeshWorkerReply): void {
  parentPort?.postMessage(message);
}

writeMeshFromJob(request.jobDir, request.format, request.calibration, request.options).then(
  (summary) => reply({ ok: true, summary }),
  (error: unknown) =>
    reply({
      ok: false,
      code: error instanceof StackscopeError ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    }),
);
