import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_NICE } from '../src/thread-priority.js';
import { startWorker } from '../src/worker-thread.js';

/** The nice value of one thread of this process, from /proc (the 19th field of its stat line). */
function threadNice(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('lowerThreadPriority', () => {
  it.runIf(process.platform === 'linux')(
    'lowers the calling worker thread only, never the main thread',
    async () => {
      const mainBefore = getPriority();
      const worker = startWorker(new URL('./helpers/priority-worker.js', import.meta.url));
      try {
        const { lowered, tid } = await new Promise<{ lowered: boolean; tid: number }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        expect(lowered).toBe(true);
        expect(threadNice(tid)).toBe(Math.max(mainBefore, BACKGROUND_NICE));
        expect(getPriority()).toBe(mainBefore);
      } finally {
        await worker.terminate();
      }
    },
  );
});
