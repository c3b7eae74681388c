// The web page: the compiled page (dist/ui: index.html at /, its modules and style) and three.js's
// ES modules at /vendor/three/ from node_modules, so the browser needs nothing from the internet.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export interface UiRouteOptions {
  /** The compiled page; default `<package root>/dist/ui` (npm run build writes it). */
  uiDir?: string;
  /** three's package folder; default: where Node resolves `three` from here. */
  threeDir?: string;
}

/** The package root: the nearest folder above this module with a package.json (src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export function defaultThreeDir(): string {
  // `three` resolves to <three>/build/three.cjs for require: two folders up is the package.
  return dirname(dirname(createRequire(import.meta.url).resolve('three')));
}

/** Only three's browser builds and add-ons are served, not the rest of its package. */
const THREE_FOLDERS = ['/build/', '/examples/jsm/'];

export const uiRoutes: FastifyPluginAsync<UiRouteOptions> = async (app, options) => {
  const uiDir = options.uiDir ?? join(packageRoot(), 'dist', 'ui');
  const threeDir = options.threeDir ?? defaultThreeDir();

  await app.register(fastifyStatic, {
    root: threeDir,
    prefix: '/vendor/three/',
    // A route per file would be thousands of routes: one wildcard, limited to the two folders.
    wildcard: true,
    decorateReply: false,
    index: false,
    allowedPath: (path) => THREE_FOLDERS.some((folder) => path.startsWith(folder)),
    // The version only changes with npm install; a day's caching spares a phone the 1.3 MB.
    maxAge: '1d',
  });

  if (!existsSync(join(uiDir, 'index.html'))) {
    // A clear answer instead of a bare 404 when the daemon runs from sources never built.
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(`The web page is not built (no ${join(uiDir, 'index.html')}): run \`npm run build\`.`),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: '/',
    // One route per file of the page (a few dozen): no catch-all that would answer every unknown URL.
    wildcard: false,
    decorateReply: false,
    index: 'index.html',
    // The page changes with each build: browsers revalidate (ETag) rather than keep an old copy.
    cacheControl: false,
    setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
  });
};
