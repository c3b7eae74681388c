// docs/configuration.md is generated from the zod schema (src/config/reference.ts): it must equal the
// generator's output, so CI fails when the schema changes without `npm run docs:config`.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { describeType, renderConfigReferenceMarkdown } from '../../src/config/reference.js';

const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** `section.key` → the Default cell of its row, read from the page's tables (first shape of a union). */
function defaultCells(markdown: string): Map<string, string> {
  const cells = new Map<string, string>();
  let section = '';
  for (const line of markdown.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) section = heading[1] === 'Top level' ? '' : heading[1];
    const row = /^\| `([A-Za-z0-9]+)`\s*\|[^|]*\|\s*(.*?)\s*\|/.exec(line);
    if (row) {
      const path = section ? `${section}.${row[1]}` : row[1];
      if (!cells.has(path)) cells.set(path, row[2]);
    }
  }
  return cells;
}

/**
 * Every key of the parsed empty configuration with its default; an object whose row shows its default
 * whole (a union: the stage driver, the button's stack) is one leaf.
 */
function defaultLeaves(value: unknown, cells: Map<string, string>, path = ''): [string, unknown][] {
  const shownWhole = cells.get(path)?.startsWith('`{') ?? false;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || shownWhole)
    return [[path, value]];
  return Object.entries(value).flatMap(([key, child]) =>
    defaultLeaves(child, cells, path ? `${path}.${key}` : key),
  );
}

describe('docs/configuration.md', () => {
  it('equals the generated reference (npm run docs:config)', async () => {
    expect(committed).toBe(await renderConfigReferenceMarkdown());
  });

  it('has a row for every key of the default configuration, showing its default', () => {
    const cells = defaultCells(committed);
    const leaves = defaultLeaves(configSchema.parse({}), cells);
    expect(leaves.length).toBeGreaterThan(40);
    for (const [path, value] of leaves) {
      const shown =
        typeof value === 'string' && value.startsWith(homedir())
          ? `~${value.slice(homedir().length)}`
          : value;
      expect({ path, cell: cells.get(path) }).toEqual({ path, cell: `\`${JSON.stringify(shown)}\`` });
    }
  });

  it('lists the keys that are only optional, and the shapes of a union', () => {
    const cells = defaultCells(committed);
    expect(cells.get('rig.button')).toBe('absent');
    expect(cells.get('server.token')).toBe('absent');
    expect(cells.get('rig.stage.driver.stepPin')).toBe('required');
    expect(committed).toContain('_type `"uln2003"`_');
    expect(committed).toContain('_shape 2: `frames`, `step`_');
  });
});

describe('describeType', () => {
  it('words ranges, enums, tuples and unions as a reader wants them', () => {
    expect(describeType({ type: 'integer', minimum: 2, maximum: 27 })).toBe('integer 2–27');
    expect(describeType({ type: 'number', exclusiveMinimum: 0 })).toBe('number > 0');
    expect(describeType({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })).toBe(
      'integer ≥ 0',
    );
    expect(describeType({ enum: ['jpg', 'png'] })).toBe('`"jpg"`, `"png"`');
    expect(describeType({ anyOf: [{ const: 1 }, { const: 2 }] })).toBe('`1`, `2`');
    expect(
      describeType({
        type: 'array',
        prefixItems: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string' }],
      }),
    ).toBe('[number > 0, string]');
    expect(describeType({ type: 'string', minLength: 16 })).toBe('string of ≥ 16 characters');
  });
});
