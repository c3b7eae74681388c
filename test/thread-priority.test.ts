import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Stacker } from '../src/stack/stacker.js';
import { BACKGROUND_NICE, setBackgroundWork } from '../src/thread-priority.js';
import { makeFrame } from './helpers/frames.js';
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

describe('stacking threads', () => {
  /** Nice values of this process's threads. */
  const niceValues = () => readdirSync('/proc/self/task').map((tid) => threadNice(Number(tid)));

  it.runIf(process.platform === 'linux')(
    'lower their priority only as background work (the daemon)',
    async () => {
      const frame = makeFrame(64, 48, 3, (x, y) => (x * y) % 256);
      const run = async (background: boolean) => {
        setBackgroundWork(background);
        const stacker = new Stacker({ threads: 2 });
        try {
          await stacker.add(frame);
          return niceValues().filter((n) => n >= BACKGROUND_NICE).length;
        } finally {
          await stacker.close();
          setBackgroundWork(false);
        }
      };
      expect(await run(false)).toBe(0);
      expect(await run(true)).toBe(2);
    },
  );
});
