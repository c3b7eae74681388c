// Renders the configuration reference (docs/configuration.md: `npm run docs:config`) from the zod schema's
// JSON Schema: one table per object, each key with what it accepts, its default, unit and description.
import { homedir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from './index.js';

/** The slice of JSON Schema (draft 2020-12, as zod 4 writes it) the reference reads. */
interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
}

interface Row {
  key: string;
  accepts: string;
  fallback: string;
  unit: string;
  description: string;
}

interface Table {
  /** Which shape of a union this table is (e.g. `type "uln2003"`). */
  variant?: string;
  rows: Row[];
}

/** One object of the configuration: one table, or one per shape when the object is a union. */
interface Section {
  path: string;
  tables: Table[];
}

/** Units by key-name suffix: the schema's convention is that every value's name carries its unit. */
const UNIT_SUFFIXES: [RegExp, string][] = [
  [/UmPerS2$/, 'µm/s²'],
  [/UmPerS$/, 'µm/s'],
  [/PxPerUm$/, 'px/µm'],
  [/PerUm$/, 'per µm'],
  [/PerMm$/, 'per mm'],
  [/Um$/, 'µm'],
  [/Us$/, 'µs'],
  [/Ms$/, 'ms'],
  [/Px$/, 'px'],
  [/Mb$/, 'MB'],
  [/Gb$/, 'GB'],
  [/Days$/, 'days'],
];

function unitOf(key: string): string {
  return UNIT_SUFFIXES.find(([suffix]) => suffix.test(key))?.[1] ?? '';
}

const isObject = (s: JsonSchema) => s.type === 'object' && s.properties !== undefined;
const objectVariants = (s: JsonSchema) => {
  const options = s.oneOf ?? s.anyOf;
  return options && options.every(isObject) ? options : undefined;
};

/** zod bounds every integer by ±Number.MAX_SAFE_INTEGER: no reader needs to be told. */
const bound = (value: number | undefined) =>
  value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value;

function range(s: JsonSchema): string {
  const [min, max] = [bound(s.minimum), bound(s.maximum)];
  const [exclusiveMin, exclusiveMax] = [bound(s.exclusiveMinimum), bound(s.exclusiveMaximum)];
  const low = exclusiveMin !== undefined ? `> ${exclusiveMin}` : min !== undefined ? min : null;
  const high = exclusiveMax !== undefined ? `< ${exclusiveMax}` : max !== undefined ? max : null;
  if (typeof low === 'number' && typeof high === 'number') return ` ${low}–${high}`;
  if (low !== null && high !== null) return ` ${low}, ${high}`;
  if (typeof low === 'number') return ` ≥ ${low}`;
  if (low !== null) return ` ${low}`;
  if (typeof high === 'number') return ` ≤ ${high}`;
  return high !== null ? ` ${high}` : '';
}

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

/** What a value accepts, in words: `a`, `b` for enums, "integer 2–27", "[number > 0, number > 0]". */
export function describeType(s: JsonSchema): string {
  if (s.enum) return s.enum.map(code).join(', ');
  if (s.const !== undefined) return code(s.const);
  const options = s.oneOf ?? s.anyOf;
  if (options) {
    if (options.every((o) => o.const !== undefined)) return options.map((o) => code(o.const)).join(', ');
    return objectVariants(s) ? `object of ${options.length} shapes` : options.map(describeType).join(' or ');
  }
  switch (s.type) {
    case 'integer':
      return `integer${range(s)}`;
    case 'number':
      return `number${range(s)}`;
    case 'string': {
      if (s.minLength !== undefined && s.maxLength !== undefined)
        return `string of ${s.minLength}–${s.maxLength} characters`;
      if (s.minLength !== undefined) return `string of ≥ ${s.minLength} characters`;
      return s.maxLength !== undefined ? `string of ≤ ${s.maxLength} characters` : 'string';
    }
    case 'boolean':
      return 'boolean';
    case 'array': {
      if (s.prefixItems) {
        const items = s.prefixItems.map(describeType);
        return items.every((t) => t === items[0]) ? `${items.length} × ${items[0]}` : `[${items.join(', ')}]`;
      }
      return s.items ? `array of ${describeType(s.items)}` : 'array';
    }
    case 'object':
      return 'object';
    default:
      return 'any';
  }
}

/** The default as a reader sees it: the home folder as `~`, so the page reads the same on every machine. */
function describeDefault(value: unknown): string {
  const home = homedir();
  if (typeof value === 'string' && home && value.startsWith(home))
    return `\`"~${value.slice(home.length)}"\``;
  return code(value);
}

const anchor = (path: string) => `#${path.toLowerCase().replace(/[^a-z0-9 -]/g, '')}`;

/** Adds the section of the object at `path` (one table per shape of a union), then its nested objects'. */
function walk(shapes: JsonSchema[], path: string, sections: Section[]): void {
  const section: Section = { path, tables: [] };
  sections.push(section);
  const nested: [JsonSchema[], string][] = [];
  for (const [index, schema] of shapes.entries()) {
    const table: Table = { variant: shapes.length > 1 ? variantName(schema, index) : undefined, rows: [] };
    section.tables.push(table);
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const childPath = path ? `${path}.${key}` : key;
      const required = schema.required?.includes(key) ?? false;
      const variants = objectVariants(child);
      const isNested = isObject(child) || variants !== undefined;
      let fallback =
        child.default !== undefined ? describeDefault(child.default) : required ? 'required' : 'absent';
      if (isObject(child) && child.default !== undefined) fallback = 'every key at its default';
      if (isNested && !nested.some(([, p]) => p === childPath)) nested.push([variants ?? [child], childPath]);
      table.rows.push({
        key: `\`${key}\``,
        accepts: isNested ? `${describeType(child)} ([below](${anchor(childPath)}))` : describeType(child),
        fallback,
        unit: unitOf(key),
        description: child.description ?? '',
      });
    }
  }
  for (const [next, nextPath] of nested) walk(next, nextPath, sections);
}

/** A union's shapes are told apart by their `type` key when they have one, else by their keys. */
function variantName(s: JsonSchema, index: number): string {
  const type = s.properties?.type;
  if (type?.enum) return `type ${type.enum.map(code).join(', ')}`;
  if (type?.const !== undefined) return `type ${code(type.const)}`;
  return `shape ${index + 1}: ${Object.keys(s.properties ?? {})
    .filter((k) => s.required?.includes(k))
    .map((k) => `\`${k}\``)
    .join(', ')}`;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function renderTable(table: Table): string {
  const lines = table.variant ? [`_${table.variant}_`, ''] : [];
  lines.push('| Key | Accepts | Default | Unit | Description |', '| --- | --- | --- | --- | --- |');
  for (const r of table.rows)
    lines.push(`| ${[r.key, r.accepts, r.fallback, r.unit, r.description].map(cell).join(' | ')} |`);
  return lines.join('\n');
}

function renderSection(section: Section): string {
  const title = section.path ? `## ${section.path}` : '## Top level';
  return `${title}\n\n${section.tables.map(renderTable).join('\n\n')}\n`;
}

const INTRO = `<!-- Generated from src/config/ by \`npm run docs:config\` (src/config/reference.ts): do not edit by hand. -->

# Configuration reference

Every key stackscope reads, generated from the zod schema that validates the configuration
([src/config/schema.ts](../src/config/schema.ts), [src/config/index.ts](../src/config/index.ts)).
Every key has a default or may be left out, so an empty file is a valid configuration; unknown keys
are refused. What the rig's keys mean in practice, with examples: [rig.md](rig.md#configuration).

Loading order, each layer overriding the one before: the defaults below; the JSON file given by
\`--config FILE\`, else by \`STACKSCOPE_CONFIG\`; environment variables \`STACKSCOPE__<path>\` with the
key path joined by double underscores, case as written here (\`STACKSCOPE__rig__stage__maxUm=1500\`;
a value that parses as JSON is taken as JSON, anything else as a string); then command-line flags
(\`--rig\`, \`--data-dir\`, and for \`serve\` \`--port\`, \`--host\`). An invalid value stops the start with
\`CONFIG_INVALID\`, naming the key's path, what it accepts and what it got.

"absent" means the key may be left out and then does nothing (no button, no fixed exposure…);
"required" keys must be given when their object is.
`;

/** The reference page's markdown, before formatting. */
export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const sections: Section[] = [];
  walk([schema], '', sections);
  return [INTRO, ...sections.map(renderSection)].join('\n');
}

/** The page as docs/configuration.md holds it: formatted by the repository's prettier settings. */
export async function renderConfigReferenceMarkdown(): Promise<string> {
  const { format, resolveConfig } = await import('prettier');
  const target = new URL('../../docs/configuration.md', import.meta.url);
  const options = (await resolveConfig(target)) ?? {};
  return format(renderConfigReference(), { ...options, parser: 'markdown' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await renderConfigReferenceMarkdown());
}
