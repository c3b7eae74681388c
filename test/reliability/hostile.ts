// Seeded generators of hostile request parts for the fuzz test: strings (huge, unicode, traversal,
// bad escapes), JSON values (wrong types, deep nesting, prototype-pollution keys), mutated valid bodies.
import { mulberry32 } from '../../src/rig/simulated/prng.js';

export type Rng = () => number;

export function seeded(seed: number): Rng {
  return mulberry32(seed);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** Keys that poison a prototype when a parser or a merge copies them blindly. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const UNICODE = [
  '日本語のラベル',
  '🦂🔬💥',
  'e\u0301\u0301\u0301', // stacked combining accents
  '\u202Egnp.exe', // right-to-left override
  '\uFEFFbom',
  '\u0000nul',
  '\uD800', // lone surrogate
  'Ω≈ç√∫˜µ≤≥÷',
  'ﷺ',
  '\u200B\u200C\u200D',
];

const TRAVERSAL = [
  '..',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  'manifest.json',
  '.%00.jpg',
  'result.jpg%00.png',
  '....//....//',
  '%252e%252e%252f',
  'frames/../manifest.json',
];

const NUMERIC = [
  '-1',
  '0',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '0x1F',
  '1.5',
  '99999999999999999999999',
  '-0',
  ' 1',
  '1 ',
];

const SQL_AND_SHELL = [
  "' OR 1=1 --",
  '$(reboot)',
  '`id`',
  '; rm -rf /',
  '<script>alert(1)</script>',
  '%s%s%s%n',
  '{{7*7}}',
];

const BAD_ESCAPES = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ff%fe', '%u0041'];

/** A hostile string: one of the families above, or a long run of one (up to `maxLength`). */
export function hostileString(rng: Rng, maxLength = 5000): string {
  switch (int(rng, 0, 7)) {
    case 0:
      return pick(rng, UNICODE);
    case 1:
      return pick(rng, TRAVERSAL);
    case 2:
      return pick(rng, NUMERIC);
    case 3:
      return pick(rng, SQL_AND_SHELL);
    case 4:
      return pick(rng, POLLUTION_KEYS);
    case 5:
      return pick(rng, ['', ' ', '\n', '\t\r\n', 'null', 'true', '[]', '{}']);
    case 6:
      return pick(rng, ['a', '9', '/', '.', '%', 'é', '🦂']).repeat(int(rng, 100, maxLength));
    default:
      return pick(rng, [...UNICODE, ...TRAVERSAL]) + pick(rng, NUMERIC);
  }
}

/** A hostile path segment, sometimes with raw (unencoded) escapes or slashes. */
export function hostileSegment(rng: Rng): string {
  const r = rng();
  if (r < 0.15) return pick(rng, BAD_ESCAPES);
  if (r < 0.3) return pick(rng, TRAVERSAL);
  return encodeUri(hostileString(rng, 400));
}

/** encodeURIComponent, except that a lone surrogate becomes the invalid UTF-8 a client could send. */
export function encodeUri(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '')) + '%ED%A0%80';
  }
}

/** An object with an own key of any name, `__proto__` included (a literal would set the prototype). */
function withKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** Any JSON value, nested up to `depth`, keys and strings drawn from the hostile families. */
export function hostileJson(rng: Rng, depth = 4): unknown {
  const r = rng();
  if (depth <= 0 || r < 0.35) {
    return pick(rng, [
      null,
      true,
      false,
      0,
      -1,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      0.1 + 0.2,
      -0,
      int(rng, -1e6, 1e6),
      hostileString(rng, 2000),
    ]);
  }
  if (r < 0.55) return Array.from({ length: int(rng, 0, 5) }, () => hostileJson(rng, depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = int(rng, 0, 5); i > 0; i--) {
    const key = rng() < 0.3 ? pick(rng, POLLUTION_KEYS) : hostileString(rng, 50);
    withKey(object, key, hostileJson(rng, depth - 1));
  }
  return object;
}

/** `{"a":{"a":…}}` or `[[[…]]]` nested `levels` deep, as text (JSON.stringify would recurse). */
export function deeplyNested(rng: Rng, levels: number): string {
  return rng() < 0.5
    ? '['.repeat(levels) + ']'.repeat(levels)
    : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

/** The raw JSON texts of prototype-pollution attempts, bare and inside otherwise valid bodies. */
export function pollutionBody(rng: Rng, valid: Record<string, unknown>): string {
  const payload = pick(rng, [
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"__proto__":{"__proto__":{"polluted":"yes"}}}',
  ]);
  if (rng() < 0.4) return payload;
  const text = JSON.stringify(valid);
  const keys = Object.keys(valid);
  const into = keys.length > 0 && rng() < 0.5 ? pick(rng, keys) : null;
  // Either as a sibling of the valid keys, or as the value of one of them.
  return into === null
    ? `{${payload.slice(1, -1)},${text.slice(1)}`
    : text.replace(`"${into}":`, `"${into}":${payload},"_${into}":`);
}

/** A copy of a valid body with one hostile change: a value replaced, a key dropped, added or nested. */
export function mutate(rng: Rng, valid: unknown): unknown {
  if (typeof valid !== 'object' || valid === null) return hostileJson(rng);
  const copy = structuredClone(valid) as Record<string, unknown>;
  const keys = Object.keys(copy);
  switch (int(rng, 0, 5)) {
    case 0:
    case 1: {
      const key = pick(rng, keys);
      const inner = copy[key];
      if (typeof inner === 'object' && inner !== null && rng() < 0.5) copy[key] = mutate(rng, inner);
      else copy[key] = hostileJson(rng, 2);
      return copy;
    }
    case 2:
      delete copy[pick(rng, keys)];
      return copy;
    case 3:
      return withKey(
        copy,
        rng() < 0.5 ? pick(rng, POLLUTION_KEYS) : hostileString(rng, 40),
        hostileJson(rng, 2),
      );
    case 4:
      return [copy];
    default: {
      const key = pick(rng, keys);
      copy[key] = pick(rng, [String(copy[key]), [copy[key]], { value: copy[key] }, null]);
      return copy;
    }
  }
}

/** A multipart body of 0–5 parts: frames whole or cut, junk files, hostile field and file names. */
export function hostileMultipart(rng: Rng, frame: Buffer): { payload: Buffer; type: string } {
  const boundary = `fuzz${int(rng, 0, 1e9)}`;
  const chunks: Buffer[] = [];
  for (let i = int(rng, 0, 5); i > 0; i--) {
    const file = rng() < 0.6;
    const name = rng() < 0.3 ? pick(rng, ['__proto__', 'constructor', 'method', 'align']) : 'f';
    const filename = rng() < 0.5 ? `frame_${i}.png` : hostileString(rng, 200).replace(/["\r\n]/g, '');
    const data = file
      ? pick(rng, [
          frame,
          frame.subarray(0, int(rng, 0, frame.length)),
          Buffer.from(hostileString(rng, 3000)),
        ])
      : Buffer.from(hostileString(rng, 2000));
    const disposition = `form-data; name="${name}"${file ? `; filename="${filename}"` : ''}`;
    chunks.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n\r\n`),
      data,
      Buffer.from('\r\n'),
    );
  }
  // Sometimes no closing boundary: a cut-off upload.
  if (rng() < 0.8) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}
