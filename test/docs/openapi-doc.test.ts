// docs/openapi.json is the API's OpenAPI document as the route schemas make it: regenerate it with
// `npm run docs:api` when a route changes, or this test (and so CI) fails.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOpenApiJson } from '../../src/api/openapi-dump.js';

const committed = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');

describe('docs/openapi.json', () => {
  it('equals the document the app builds (npm run docs:api)', async () => {
    expect(committed).toBe(await renderOpenApiJson());
  });

  it('documents every route of the HTTP contract', () => {
    const paths = (JSON.parse(committed) as { paths: Record<string, Record<string, unknown>> }).paths;
    const routes = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/health',
        'GET /api/status',
        'POST /api/stage/move',
        'POST /api/stage/home',
        'POST /api/stage/stop',
        'POST /api/stacks',
        'GET /api/stacks',
        'GET /api/stacks/{id}',
        'DELETE /api/stacks/{id}',
        'GET /api/stacks/{id}/{file}',
        'GET /api/stacks/{id}/frames',
        'GET /api/stacks/{id}/frames/{n}',
        'POST /api/stacks/{id}/restack',
        'POST /api/stacks/upload',
        'GET /api/events',
      ]),
    );
  });
});
