// Prints the API's OpenAPI document (docs/openapi.json: `npm run docs:api`): the app is built around a
// simulated rig in a throw-away folder, so the document comes from the very route schemas that validate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../config/load.js';
import { packageVersion } from '../daemon.js';
import { openSimulatedRig } from '../rig/simulated/rig.js';
import { createServices } from '../services.js';
import { JobStore } from '../store/job-store.js';
import { buildApp } from './app.js';

/** The OpenAPI document as fastify-swagger serves it at /docs/json. */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stackscope-openapi-'));
  try {
    // Small frames: nothing is captured, but the simulated camera should not cost a large scene.
    const config = parseConfig(
      { dataDir, rig: { type: 'simulated', simulated: { width: 64, height: 48 } } },
      'openapi configuration',
    );
    const store = await JobStore.open({ dataDir });
    const rig = await openSimulatedRig(config.rig, { stateDir: join(dataDir, 'state') });
    const { jobs, context } = createServices({ config, rig, store }, await packageVersion());
    const app = await buildApp(context);
    try {
      await app.ready();
      return app.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.close();
      await jobs.shutdown();
      await rig.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The document as docs/openapi.json holds it: formatted as the repository's prettier formats JSON. */
export async function renderOpenApiJson(): Promise<string> {
  const { format, resolveConfig } = await import('prettier');
  const target = new URL('../../docs/openapi.json', import.meta.url);
  const options = (await resolveConfig(target)) ?? {};
  return format(JSON.stringify(await buildOpenApiDocument(), null, 2), { ...options, parser: 'json' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await renderOpenApiJson());
}
