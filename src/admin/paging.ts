/**
 * @module admin/paging
 * List semantics of Kong's Admin API: `size` (default 100, at most 1000), `?tags=a,b` (all of)
 * or `?tags=a/b` (any of), and an opaque `offset` token. As in Kong's DB-less store, a list is
 * ordered by a key (the entity id) and the token is the base64 of the last key returned plus a
 * NUL, i.e. "continue after this key" — so a token stays meaningful across config reloads.
 * Errors carry Kong's codes: 9 invalid size, 11 invalid options, 7 invalid offset.
 */
import { escapeUri, reply, type Reply } from './http.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface TagFilter { cond: 'and' | 'or'; tags: string[] }

export interface ListOptions {
  size: number;
  /** `size` as the client wrote it (Kong copies it into `next`). */
  sizeArg: string | null;
  tags: TagFilter | null;
  /** `tags` as the client wrote it (Kong copies it into `next`). */
  tagsArg: string | null;
  /** Decoded offset: the list continues with keys >= this. */
  after: string | null;
}

type Query = ReadonlyMap<string, string | true>;

const invalidSize = (message: string): Reply => reply(400, { code: 9, name: 'invalid size', message });
const invalidOption = (option: string, message: string): Reply =>
  reply(400, { code: 11, name: 'invalid options', message: `invalid option (${option}: ${message})`, options: { [option]: message } });
export const invalidOffset = (offset: string, why: string): Reply =>
  reply(400, { code: 7, name: 'invalid offset', message: `'${offset}' is not a valid offset: ${why}` });

/** Lua's `tonumber` on a query argument: decimal, hex or exponent forms; null otherwise. */
function luaToNumber(v: string | true | undefined): number | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  const n = Number(v.trim());
  return Number.isNaN(n) ? null : n;
}

/** Printable ASCII except `,` and `/`, or any non-ASCII character (Kong's tag bytes). */
const isTagChar = (ch: string): boolean => {
  const c = ch.codePointAt(0)!;
  return c >= 0x80 || (c >= 0x20 && c <= 0x7e && ch !== ',' && ch !== '/');
};

function parseTags(raw: string): TagFilter | null {
  for (const [sep, cond] of [[',', 'and'], ['/', 'or']] as const) {
    const parts = raw.split(sep);
    if (parts.at(-1) === '' && parts.length > 1) parts.pop(); // Kong's pattern allows one trailing separator
    if (parts.length > 0 && parts.every((p) => p.length > 0 && [...p].every(isTagChar))) return { cond, tags: parts };
  }
  return null;
}

/** Strict base64 (standard alphabet, padding optional), as ngx.decode_base64 accepts it. */
export function decodeOffsetToken(token: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token)) return null;
  const bare = token.replace(/=+$/, '');
  if (bare.length % 4 === 1) return null;
  if (token.includes('=') && token.length % 4 !== 0) return null;
  return Buffer.from(bare, 'base64').toString('latin1');
}

export function encodeOffsetToken(lastKey: string): string {
  return Buffer.from(`${lastKey}\x00`, 'latin1').toString('base64').replace(/=+$/, '');
}

/**
 * Reads `size`, `tags` and `offset` in the order Kong checks them (size type, size range, tags,
 * offset). `tags: false` for lists whose entities have no tags (Kong ignores the argument).
 */
export function parseListOptions(query: Query, opts: { tags?: boolean } = {}): { ok: true; options: ListOptions } | { ok: false; error: Reply } {
  let size = DEFAULT_PAGE_SIZE;
  let sizeArg: string | null = null;
  if (query.has('size')) {
    const raw = query.get('size')!;
    const n = luaToNumber(raw);
    if (n === null) return { ok: false, error: invalidSize('size must be a number') };
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
      return { ok: false, error: invalidSize(`size must be an integer between 1 and ${MAX_PAGE_SIZE}`) };
    }
    size = n;
    sizeArg = raw as string;
  }
  let tags: TagFilter | null = null;
  let tagsArg: string | null = null;
  if (opts.tags !== false && query.has('tags')) {
    const raw = query.get('tags')!;
    tags = typeof raw === 'string' ? parseTags(raw) : null;
    if (!tags) return { ok: false, error: invalidOption('tags', 'invalid filter syntax') };
    if (tags.tags.length > 5) return { ok: false, error: invalidOption('tags', 'cannot query more than 5 tags') };
    tagsArg = raw as string;
  }
  let after: string | null = null;
  if (query.has('offset')) {
    const raw = query.get('offset')!;
    const text = raw === true ? '' : raw;
    const decoded = decodeOffsetToken(text);
    if (decoded === null) return { ok: false, error: invalidOffset(text, 'bad base64 encoding') };
    after = decoded === '' ? null : decoded;
  }
  return { ok: true, options: { size, sizeArg, tags, tagsArg, after } };
}

export function matchesTags(entityTags: readonly string[] | null | undefined, filter: TagFilter | null): boolean {
  if (!filter) return true;
  if (!entityTags || entityTags.length === 0) return false;
  return filter.cond === 'and'
    ? filter.tags.every((t) => entityTags.includes(t))
    : filter.tags.some((t) => entityTags.includes(t));
}

export interface Page<T> { data: T[]; offset: string | null }

/** One page of `items` (already filtered, ordered by `keyOf` ascending) starting after `after`. */
export function takePage<T>(items: readonly T[], keyOf: (item: T) => string, options: ListOptions): Page<T> {
  const start = options.after === null ? 0 : items.findIndex((i) => keyOf(i) >= options.after!);
  if (start < 0) return { data: [], offset: null };
  const data = items.slice(start, start + options.size);
  const more = start + options.size < items.length;
  return { data, offset: more && data.length > 0 ? encodeOffsetToken(keyOf(data.at(-1)!)) : null };
}

/**
 * Kong's list body: `{"data":[…],"offset":"…","next":"/path?offset=…"}` (`offset` only while
 * there is a next page, `next` null at the end). Top-level lists carry `tags` and `size` into
 * `next`; nested lists do not (as in Kong).
 */
export function listBody<T>(page: Page<T>, path: string, options: ListOptions | null, carryArgs: boolean): Record<string, unknown> {
  if (page.offset === null) return { data: page.data, next: null };
  let next = `${path}?offset=${escapeUri(page.offset)}`;
  if (carryArgs && options) {
    if (options.tagsArg !== null) next += `&tags=${escapeUri(options.tagsArg)}`;
    if (options.sizeArg !== null) next += `&size=${options.sizeArg}`;
  }
  return { data: page.data, offset: page.offset, next };
}
