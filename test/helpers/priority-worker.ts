// A worker for thread-priority.test.ts: lowers its own priority and reports its thread id and the result.
import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../../src/thread-priority.js';

const lowered = lowerThreadPriority();
const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
parentPort!.postMessage({ lowered, tid });
// Stays alive until terminated, so its /proc entry can be read.
setInterval(() => {}, 1000);
