// The restack body is optional, and the OpenAPI document says so: a bare POST restacks with the
// configured settings, while the document still describes the body's fields (and other bodies stay required).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody, keptStack, startTestApp, waitForJob, type TestApp } from '../helpers/daemon.js';

interface Operation {
  requestBody?: { required?: boolean; content: Record<string, { schema: { properties?: object } }> };
}
type Document = { paths: Record<string, Record<string, Operation>> };

let t: TestApp;
let sourceId = '';

beforeAll(async () => {
  t = await startTestApp();
  ({ sourceId } = await keptStack(t));
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/stacks/:id/restack without a body', () => {
  it('is documented as optional, with its fields, in the served document and docs/openapi.json', () => {
    const served = t.app.swagger() as unknown as Document;
    const committed = JSON.parse(
      readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
    ) as Document;
    for (const document of [served, committed]) {
      const restack = document.paths['/api/stacks/{id}/restack'].post.requestBody!;
      expect(restack.required).toBe(false);
      expect(Object.keys(restack.content['application/json'].schema.properties ?? {})).toEqual([
        'stack',
        'label',
      ]);
      expect(document.paths['/api/stacks'].post.requestBody!.required).toBe(true);
    }
    expect(t.app.swagger({ yaml: true })).toMatch(/\/api\/stacks\/\{id\}\/restack:[\s\S]*?required: false/);
  });

  it('restacks with the configured settings when the body is left out, and still checks one given', async () => {
    const bare = await t.app.inject({ method: 'POST', url: `/api/stacks/${sourceId}/restack` });
    expect(bare.statusCode).toBe(202);
    const job = await waitForJob(t, bare.json<{ id: string }>().id, ['done', 'failed']);
    expect(job).toMatchObject({ status: 'done', kind: 'restack', sourceJobId: sourceId });
    const bad = await t.app.inject({
      method: 'POST',
      url: `/api/stacks/${sourceId}/restack`,
      payload: { stack: { method: 'median' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(errorBody(bad).error).toBe('BAD_ARGUMENT');
  });
});
