// docs/errors.md lists every code of the catalogue with its status and exit code, and nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\|\s*([A-Z_]+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|$/gm)].map((m) => ({
  code: m[1],
  status: Number(m[2]),
  exitCode: Number(m[3]),
  description: m[4],
}));

describe('docs/errors.md', () => {
  it('has one row per catalogued code, with its status, exit code and description', () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const row of rows) {
      const spec = ERROR_CATALOGUE[row.code as keyof typeof ERROR_CATALOGUE];
      expect({ status: row.status, exitCode: row.exitCode, description: row.description }).toEqual({
        status: spec.status,
        exitCode: spec.exitCode,
        description: spec.description,
      });
    }
  });
});
