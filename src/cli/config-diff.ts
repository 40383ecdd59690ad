/**
 * @module cli/config-diff
 * Entity-level differences between two normalized declarative configs, for people:
 * `+ route echo`, `- plugin rate-limiting (route echo)`, `~ service echo: port 80 → 8080`.
 * Entities match by id; ids of entities without one are derived from their natural keys (name,
 * username, plugin name + scope, …, as Kong derives them), so the same entity matches across files.
 */
import { ENTITY_KEYS, type Config, type EntityKey } from '../config/entities.ts';
import { ENTITY_SHAPES } from '../config/schema/declarative.ts';

type Row = Record<string, unknown> & { id: string };

/** Fields that change on every load and say nothing about the config. */
const IGNORED = new Set(['id', 'created_at', 'updated_at']);
/** Foreign keys shown as the referenced entity's label, in this order. */
const SCOPE_FIELDS = ['route', 'service', 'consumer', 'upstream', 'certificate', 'client_certificate'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a person names an entity: its name (or other key); the id when it has none. */
function naturalName(collection: EntityKey, row: Row): string {
  const key = ENTITY_SHAPES[collection].endpointKey;
  for (const field of [key, 'instance_name', 'name', 'username', 'custom_id', 'target', 'group', 'key', 'client_id']) {
    if (field && typeof row[field] === 'string' && row[field]) {
      // A plugin is known by its plugin name even when it has an instance name.
      if (collection === 'plugins' && field !== 'name' && typeof row.name === 'string') return `${row.name} ${row[field] as string}`;
      return row[field] as string;
    }
  }
  return row.id;
}

class Labeller {
  readonly #names = new Map<string, string>();

  constructor(config: Config) {
    for (const c of ENTITY_KEYS) for (const row of config[c] as unknown as Row[]) this.#names.set(row.id, naturalName(c, row));
  }

  /** `plugin rate-limiting (route echo, consumer alice)`. */
  label(collection: EntityKey, row: Row): string {
    const scope: string[] = [];
    for (const f of SCOPE_FIELDS) {
      const ref = row[f];
      if (f === 'client_certificate' || !isRecord(ref) || typeof ref.id !== 'string') continue;
      scope.push(`${f} ${this.#names.get(ref.id) ?? ref.id}`);
    }
    return `${ENTITY_SHAPES[collection].singular} ${naturalName(collection, row)}${scope.length ? ` (${scope.join(', ')})` : ''}`;
  }

  /** A value as it reads in a diff line; references by the referenced entity's name. */
  value(v: unknown): string {
    if (v === undefined) return '(unset)';
    if (isRecord(v) && typeof v.id === 'string' && Object.keys(v).length === 1) return this.#names.get(v.id) ?? v.id;
    if (typeof v === 'string') return v === '' ? '""' : v;
    return JSON.stringify(v);
  }
}

/** Changed leaves of two records as dotted paths; arrays compare whole. */
function changedFields(a: unknown, b: unknown, prefix: string, out: { field: string; from: unknown; to: unknown }[]): void {
  if (isRecord(a) && isRecord(b) && !(typeof a.id === 'string' && Object.keys(a).length === 1)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      if (!prefix && IGNORED.has(k)) continue;
      changedFields(a[k], b[k], prefix ? `${prefix}.${k}` : k, out);
    }
    return;
  }
  if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push({ field: prefix, from: a, to: b });
}

export interface ConfigDiff {
  lines: string[];
  equal: boolean;
}

/** Removals, additions and changes, collection by collection in Kong's order. */
export function diffConfigs(before: Config, after: Config): ConfigDiff {
  const left = new Labeller(before);
  const right = new Labeller(after);
  const lines: string[] = [];
  for (const c of ENTITY_KEYS) {
    const a = new Map((before[c] as unknown as Row[]).map((r) => [r.id, r]));
    const b = new Map((after[c] as unknown as Row[]).map((r) => [r.id, r]));
    for (const [id, row] of a) if (!b.has(id)) lines.push(`- ${left.label(c, row)}`);
    for (const [id, row] of b) if (!a.has(id)) lines.push(`+ ${right.label(c, row)}`);
    for (const [id, row] of b) {
      const old = a.get(id);
      if (!old) continue;
      const changes: { field: string; from: unknown; to: unknown }[] = [];
      changedFields(old, row, '', changes);
      if (changes.length === 0) continue;
      const what = changes.map((ch) => `${ch.field} ${left.value(ch.from)} → ${right.value(ch.to)}`).join(', ');
      lines.push(`~ ${right.label(c, row)}: ${what}`);
    }
  }
  return { lines, equal: lines.length === 0 };
}
