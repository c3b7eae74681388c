// The web page's routes (src/api/routes/ui.ts) on a bare fastify app: the page at /, three.js from
// node_modules limited to its browser folders, and a clear answer when the page was never built.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { uiRoutes } from '../../src/api/routes/ui.js';

let app: FastifyInstance | null = null;
let dir = '';
afterEach(async () => {
  await app?.close();
  app = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function appWith(files: Record<string, string>): Promise<FastifyInstance> {
  dir = await mkdtemp(join(tmpdir(), 'stackscope-ui-route-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  app = Fastify();
  await app.register(uiRoutes, { uiDir: dir });
  return app;
}

describe('uiRoutes', () => {
  it('serves the page at / and its files, revalidated on every load', async () => {
    const ui = await appWith({ 'index.html': '<!doctype html><title>t</title>', 'main.js': 'export {};' });
    const page = await ui.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<title>t</title>');
    const script = await ui.inject('/main.js');
    expect(script.headers['content-type']).toMatch(/javascript/);
    // No catch-all: an unknown path is the app's 404, not the page.
    expect((await ui.inject('/nothing-here.js')).statusCode).toBe(404);
  });

  it("serves three.js's browser modules, and nothing else of its package", async () => {
    const ui = await appWith({ 'index.html': '' });
    const core = await ui.inject('/vendor/three/build/three.module.js');
    expect(core.statusCode).toBe(200);
    expect(core.headers['content-type']).toMatch(/javascript/);
    expect(core.body).toContain('three.core.js');
    const controls = await ui.inject('/vendor/three/examples/jsm/controls/OrbitControls.js');
    expect(controls.statusCode).toBe(200);
    for (const path of ['package.json', 'src/Three.js', '../../package.json', 'build/../package.json'])
      expect((await ui.inject(`/vendor/three/${path}`)).statusCode, path).toBe(404);
  });

  it('says how to build the page when it is missing', async () => {
    const ui = await appWith({});
    const answer = await ui.inject('/');
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toContain('npm run build');
    expect(answer.body).toContain(join(dir, 'index.html'));
  });
});
