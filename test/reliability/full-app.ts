// The daemon's app as startDaemon wires it (simulated rig, store, job manager, scheduler, every route),
// not listening, for tests that must reach every route through inject(): the fuzz and the token checks.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BuildAppOptions } from '../../src/api/app.js';
import { startTestApp, type TestApp } from '../helpers/daemon.js';
import { buildUiForTests } from '../helpers/ui-daemon.js';

export type FullApp = TestApp;

export interface FullAppOptions {
  /** Configuration keys over testConfig's (nested). */
  config?: Record<string, unknown>;
  logger?: Logger;
  app?: BuildAppOptions;
}

/** startTestApp with the scheduler running and the web page compiled from src/ui, ready. */
export async function startFullApp(options: FullAppOptions = {}): Promise<FullApp> {
  const full = await startTestApp({
    ...options,
    scheduler: true,
    app: { uiDir: await buildUiForTests(), ...options.app },
  });
  await full.app.ready();
  return full;
}

/** Every method and URL pattern the app answers (fastify's own HEAD twins left out), from its router. */
export function listRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  // printRoutes draws a tree: each line adds its piece to its parent's path, four columns per level.
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    const url = (depth > 0 ? prefixes[depth - 1] : '') + match[2];
    prefixes[depth] = url;
    for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push({ method, url });
  }
  // The drawing misplaces wildcards registered under a prefix (/vendor/three/* shows as /*): keep
  // what the router really has, and add the static wildcards by their real patterns.
  const known = routes.filter((r) => app.hasRoute({ method: r.method as 'GET', url: r.url }));
  for (const url of ['/docs/static/*', '/vendor/three/*'])
    if (app.hasRoute({ method: 'GET', url }) && !known.some((r) => r.url === url))
      known.push({ method: 'GET', url });
  return known;
}
