/**
 * @module cli/config-remote
 * `turnpike config push` and `turnpike config dump`: a declarative file to and from a running
 * gateway's Admin API (Turnpike's or Kong's), over `POST /config` and `GET /config`.
 */
import { writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { FlattenedError } from '../config/errors.ts';
import { formatLocated, locateFlattenedErrors } from '../config/source-map.ts';
import { readFileOrFail } from './main.ts';

export interface AdminFlags { adminUrl: string; adminToken?: string }

function adminHeaders(flags: AdminFlags, extra: Record<string, string> = {}): Record<string, string> {
  return flags.adminToken ? { ...extra, authorization: `Bearer ${flags.adminToken}` } : extra;
}

function adminUrl(flags: AdminFlags, path: string): string {
  return `${flags.adminUrl.replace(/\/+$/, '')}${path}`;
}

async function request(url: string, init: RequestInit): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const r = await fetch(url, init);
    return { status: r.status, text: await r.text() };
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { error: `cannot reach ${url}: ${cause ?? (err as Error).message}` };
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** The gateway's configuration hash (`GET /status`), when it tells. */
async function configurationHash(flags: AdminFlags): Promise<string | null> {
  const r = await request(adminUrl(flags, '/status'), { headers: adminHeaders(flags) });
  if ('error' in r || r.status !== 200) return null;
  const hash = parseJson(r.text)?.configuration_hash;
  return typeof hash === 'string' ? hash : null;
}

/**
 * `POST /config?check_hash=1&flatten_errors=1` with the file as written. Exit 0 when loaded or
 * unchanged (304), 1 when refused (the flattened errors, located in the file), 2 when the gateway
 * could not be asked.
 */
export async function pushConfig(file: string, flags: AdminFlags): Promise<number> {
  const text = readFileOrFail(file);
  const url = adminUrl(flags, '/config?check_hash=1&flatten_errors=1');
  // The file as the `config` field of a JSON body: the form Kong's Admin API takes for YAML and
  // JSON alike (it does not read a raw YAML body).
  const r = await request(url, { method: 'POST', headers: adminHeaders(flags, { 'content-type': 'application/json' }), body: JSON.stringify({ config: text }) });
  if ('error' in r) {
    process.stderr.write(`Error: ${r.error}\n`);
    return 2;
  }
  if (r.status === 304) {
    process.stdout.write(`${file}: unchanged (the gateway already runs this configuration)\n`);
    return 0;
  }
  if (r.status === 200 || r.status === 201) {
    const hash = await configurationHash(flags);
    process.stdout.write(`${file}: loaded${hash ? ` (configuration hash ${hash})` : ''}\n`);
    return 0;
  }
  const body = parseJson(r.text);
  const flattened = body?.flattened_errors;
  if (r.status === 400 && Array.isArray(flattened) && flattened.length > 0) {
    process.stderr.write(`${file}: refused by ${flags.adminUrl}: ${String(body?.name ?? 'invalid declarative configuration')}\n`);
    process.stderr.write(`${formatLocated(file, locateFlattenedErrors(text, flattened as FlattenedError[]))}\n`);
    return 1;
  }
  // A parse failure (`fields.error`), a busy or exiting gateway, an auth error: Kong's message.
  const fields = body?.fields as Record<string, unknown> | undefined;
  const message = typeof fields?.error === 'string' ? fields.error : typeof body?.message === 'string' ? body.message : r.text.trim();
  process.stderr.write(`${file}: refused by ${flags.adminUrl} (HTTP ${r.status}): ${message}\n`);
  return 1;
}

// ---- dump ----------------------------------------------------------------------------------

type Row = Record<string, unknown>;

/** Where decK nests a child collection: under which parent collection, by which foreign key. */
const NESTING: Record<string, { parent: string; fk: string }> = {
  routes: { parent: 'services', fk: 'service' },
  targets: { parent: 'upstreams', fk: 'upstream' },
  snis: { parent: 'certificates', fk: 'certificate' },
  keyauth_credentials: { parent: 'consumers', fk: 'consumer' },
  basicauth_credentials: { parent: 'consumers', fk: 'consumer' },
  acls: { parent: 'consumers', fk: 'consumer' },
  jwt_secrets: { parent: 'consumers', fk: 'consumer' },
  hmacauth_credentials: { parent: 'consumers', fk: 'consumer' },
  oauth2_credentials: { parent: 'consumers', fk: 'consumer' },
};
const PLUGIN_SCOPES: Record<string, string> = { route: 'routes', service: 'services', consumer: 'consumers' };
const NAME_FIELD: Record<string, string> = { consumers: 'username' };

function withoutNoise(row: Row, keepIds: boolean): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || k === 'created_at' || k === 'updated_at' || (k === 'id' && !keepIds)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Kong's export (flat collections, ids, foreign keys as ids) in decK's dump layout: children
 * nested under their parent, plugins under their only scope, no ids, timestamps or nulls. An
 * entity that something refers to by reference but that has no name keeps its id.
 */
export function deckLayout(exported: Row, keepIds = false): Row {
  const collections = Object.keys(exported).filter((k) => Array.isArray(exported[k]));
  const byId = new Map<string, { collection: string; row: Row; out: Row }>();
  for (const c of collections) {
    for (const row of exported[c] as Row[]) byId.set(row.id as string, { collection: c, row, out: withoutNoise(row, keepIds) });
  }
  /** A reference by name where the target has one, else by id (kept on the target too). */
  const refTo = (id: string): string => {
    const t = byId.get(id);
    if (!t) return id;
    const name = t.row[NAME_FIELD[t.collection] ?? 'name'];
    if (typeof name === 'string' && name) return name;
    t.out.id = id;
    return id;
  };
  const top: Record<string, Row[]> = {};
  const nest = (parentId: string, collection: string, out: Row): boolean => {
    const parent = byId.get(parentId);
    if (!parent) return false;
    ((parent.out[collection] ??= []) as Row[]).push(out);
    return true;
  };
  for (const c of collections) {
    for (const row of exported[c] as Row[]) {
      const entry = byId.get(row.id as string)!;
      const out = entry.out;
      const nesting = NESTING[c];
      if (nesting && typeof row[nesting.fk] === 'string') {
        const parentId = row[nesting.fk] as string;
        delete out[nesting.fk];
        if (nest(parentId, c, out)) continue;
        out[nesting.fk] = refTo(parentId);
      }
      if (c === 'plugins') {
        const scopes = Object.keys(PLUGIN_SCOPES).filter((f) => typeof row[f] === 'string');
        if (scopes.length === 1) {
          delete out[scopes[0]!];
          if (nest(row[scopes[0]!] as string, 'plugins', out)) continue;
        }
        for (const f of scopes) out[f] = refTo(row[f] as string);
      }
      (top[c] ??= []).push(out);
    }
  }
  const result: Row = { _format_version: exported._format_version ?? '3.0' };
  if (exported._transform !== undefined) result._transform = exported._transform;
  for (const c of collections) if (top[c]) result[c] = top[c];
  return result;
}

/** `GET /config`, written as decK writes a dump. Exit 0, or 1 when the gateway cannot be read. */
export async function dumpConfig(flags: AdminFlags & { output?: string; format: 'yaml' | 'json'; withId?: boolean }): Promise<number> {
  const url = adminUrl(flags, '/config');
  const r = await request(url, { headers: adminHeaders(flags) });
  if ('error' in r) {
    process.stderr.write(`Error: ${r.error}\n`);
    return 1;
  }
  const config = parseJson(r.text)?.config;
  if (r.status !== 200 || typeof config !== 'string') {
    process.stderr.write(`Error: GET ${url} answered ${r.status}: ${r.text.trim()}\n`);
    return 1;
  }
  const layout = deckLayout(parseYaml(config) as Row, !!flags.withId);
  const text = flags.format === 'json'
    ? `${JSON.stringify(layout, null, 2)}\n`
    : stringifyYaml(layout, { aliasDuplicateObjects: false, lineWidth: 0 });
  if (flags.output && flags.output !== '-') writeFileSync(flags.output, text);
  else process.stdout.write(text);
  return 0;
}
