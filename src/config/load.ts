// Loads the configuration: defaults, then a JSON file, then STACKSCOPE__a__b=value environment
// overrides, then command-line flags; validated once by the zod schema and frozen.
import { readFile } from 'node:fs/promises';
import { StackscopeError } from '../errors.js';
import { configSchema, type Config } from './index.js';

export interface LoadOptions {
  /** Path of a JSON config file; absent: STACKSCOPE_CONFIG, else defaults only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Already-parsed flag values, as nested keys ({ server: { port: 9000 } }). */
  overrides?: Record<string, unknown>;
}

const ENV_PREFIX = 'STACKSCOPE__';

export async function loadConfig({
  file,
  env = process.env,
  overrides = {},
}: LoadOptions = {}): Promise<Config> {
  const path = file ?? env.STACKSCOPE_CONFIG;
  let raw: Record<string, unknown> = {};
  if (path) raw = await readConfigFile(path);
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    setPath(raw, key.slice(ENV_PREFIX.length).split('__'), parseEnvValue(value));
  }
  merge(raw, overrides);
  return parseConfig(raw, path);
}

export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(top level)';
      return `${key}: ${issue.message}${describeValue(raw, issue.path)}`;
    });
    throw new StackscopeError('CONFIG_INVALID', `${source}: ${lines.join('; ')}`);
  }
  return deepFreeze(result.data);
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StackscopeError(
      'CONFIG_INVALID',
      `${path}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('expected a JSON object at the top level');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new StackscopeError('CONFIG_INVALID', `${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/** Environment values are JSON when they parse as JSON (numbers, booleans, arrays), else strings. */
function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      merge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
}

function describeValue(raw: unknown, path: PropertyKey[]): string {
  let node: unknown = raw;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  if (node === undefined) return '';
  // A secret that failed validation must not end up on a terminal or in the journal.
  if (path.some((key) => String(key).toLowerCase().includes('token'))) return ' (value not shown: a secret)';
  return ` (got ${JSON.stringify(node)})`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
