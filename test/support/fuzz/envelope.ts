// What any request can get wrong, whatever the route: its bytes (truncated, flipped, invalid UTF-8,
// UTF-16, a BOM), its content type, extra headers, huge strings and deeply nested JSON.

import fc from 'fast-check';

/** How a JSON (or form) text is put into bytes; most of the time as it is. */
export type Encoding = (text: string) => Buffer;

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Encoding>((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.constant<Encoding>((text) => Buffer.from(text, 'utf16le')) },
  { weight: 1, arbitrary: fc.constant<Encoding>((text) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])) },
  { weight: 2, arbitrary: fc.nat().map<Encoding>((n) => (text) => Buffer.from(text.slice(0, n % (text.length + 1)))) },
  {
    weight: 1,
    arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map<Encoding>((flips) => (text) => {
      const bytes = Buffer.from(text);
      for (const [at, byte] of flips) if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes;
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]).chain((bad) =>
      fc.nat().map<Encoding>((n) => (text) => {
        // Invalid UTF-8 inside a string value, where a parser that decodes loosely would accept it.
        const at = text.indexOf('"', n % Math.max(1, text.length));
        const bytes = Buffer.from(text);
        if (at < 0) return Buffer.concat([bytes, Buffer.from(bad)]);
        return Buffer.concat([bytes.subarray(0, at + 1), Buffer.from(bad), bytes.subarray(at + 1)]);
      }),
    ),
  },
);

const OTHER_TYPES = ['application/json; charset=utf-16', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/vnd.gitlab+json', '*/*', ';;;', 'application/json, text/plain'];

/** Mostly the route's own content type, sometimes another, sometimes none. */
export function contentType(own: string[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom(...own) },
    { weight: 3, arbitrary: fc.option(fc.constantFrom(...OTHER_TYPES, 'application/json', 'application/x-www-form-urlencoded'), { nil: undefined }) },
  );
}

/** Headers HTTP itself owns (framing, host): never set at random. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade', 'keep-alive', 'te', 'trailer']);
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/).filter((name) => !RESERVED.has(name));
export const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,200}$/).map((value) => value.trim());
export const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 4 });

export const hugeString = fc.constantFrom(10, 1000, 100_000, 600_000).chain((size) =>
  fc.constantFrom('x', 'é', '\u0000', '"', '\\', '🐤', '<script>').map((unit) => unit.repeat(Math.ceil(size / unit.length))),
);

/** Nesting from harmless to far deeper than any recursive walk survives; all under the 1 MiB body limit. */
export const deepJson = fc.constantFrom(100, 5_000, 100_000, 400_000).chain((depth) =>
  fc.constantFrom(
    () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
    () => `${'{"a":'.repeat(Math.min(depth, 150_000))}1${'}'.repeat(Math.min(depth, 150_000))}`,
  ).map((make) => make()),
);

/** Any JSON value, shallow. */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

/** A value of a different JSON type than `value` has (or a surprising one of the same). */
export function wrongValue(value: unknown): fc.Arbitrary<unknown> {
  const strange = fc.constantFrom(null, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, '', '__proto__', 'constructor', true, [], {});
  if (typeof value === 'number') return fc.oneof(fc.string(), fc.boolean(), strange, fc.array(fc.integer(), { maxLength: 3 }));
  if (typeof value === 'string') return fc.oneof(fc.integer(), fc.double(), fc.boolean(), strange, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), hugeString);
  if (Array.isArray(value)) return fc.oneof(fc.string(), fc.integer(), strange, fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }));
  if (typeof value === 'object' && value !== null) return fc.oneof(fc.string(), fc.integer(), strange, fc.array(anyJson, { maxLength: 3 }));
  return fc.oneof(fc.string(), fc.integer(), strange, anyJson);
}
