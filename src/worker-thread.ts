// Starts a worker thread on a module next to the caller, from the compiled JavaScript or, when running
// from the TypeScript sources (tests, tsx), through tsx's loader, which the parent's loader flags do not reach.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `entry` is the worker's .js URL (new URL('./x-worker.js', import.meta.url)); its .ts twin is used from sources. */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry, options);
  // require.resolve finds tsx's CommonJS build; the worker imports, so it needs the ESM twin beside it.
  const tsxApi = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const source = entry.href.replace(/\.js$/, '.ts');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
