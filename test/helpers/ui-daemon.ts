// The daemon as startDaemon wires it (simulated rig, store, job manager, scheduler, API) plus the web
// page's routes, listening on a random loopback port, for the browser tests; and the page built for it.
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config/index.js';
import { parseConfig } from '../../src/config/load.js';
import { openRig } from '../../src/rig/open-rig.js';
import { createServices } from '../../src/services.js';
import { JobStore } from '../../src/store/job-store.js';
import { recoverJobs } from '../../src/store/recovery.js';

const UI_SOURCES = resolve(import.meta.dirname, '../../src/ui');

let built: Promise<string> | null = null;

/**
 * The page compiled from the current sources into a temp folder. Transpiled file by file (no type
 * check: `tsc -p src/ui/tsconfig.json` does that in the build), which takes well under a second.
 */
export function buildUiForTests(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'stackscope-ui-'));
    for (const name of await readdir(UI_SOURCES)) {
      const from = join(UI_SOURCES, name);
      if (name.endsWith('.ts')) {
        const { outputText } = ts.transpileModule(await readFile(from, 'utf8'), {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
          fileName: name,
        });
        await writeFile(join(outDir, name.replace(/\.ts$/, '.js')), outputText);
      } else if (/\.(html|css)$/.test(name)) await copyFile(from, join(outDir, name));
    }
    return outDir;
  })();
  return built;
}

export interface UiDaemon {
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** Simulated rig with small, quick frames, on a random port; `server` keys override host and token. */
export async function startUiDaemon(server: Record<string, unknown> = {}): Promise<UiDaemon> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stackscope-ui-daemon-'));
  const config = parseConfig(
    {
      dataDir,
      rig: {
        type: 'simulated',
        stage: { settleMs: 0 },
        simulated: { width: 320, height: 240, timeScale: 50, exposureMs: 0 },
      },
      server: { host: '127.0.0.1', ...server },
      jobs: { reserveMb: 0 },
    },
    'ui test configuration',
  );
  const stateDir = join(dataDir, 'state');
  await mkdir(stateDir, { recursive: true });
  const store = await JobStore.open({ dataDir });
  await recoverJobs(store);
  const rig = await openRig(config.rig, { stateDir });
  const { jobs, scheduler, context } = createServices({ config, rig, store }, 'test');
  jobs.start();
  await scheduler.start();
  const app = await buildApp(context, { uiDir: await buildUiForTests() });
  const url = await app.listen({ host: config.server.host, port: 0 });
  return {
    url,
    config,
    async close() {
      await scheduler.stop();
      await jobs.shutdown();
      await app.close();
      await rig.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
