/**
 * @module config/source-map
 * Points Kong's declarative-config errors back at the text they came from: every leaf of the error
 * tree (`fields`) becomes `file:line:col: path: message`, the line and column of the YAML or JSON
 * node that caused it. Only for humans (CLI, gateway start-up); the Admin API body is unchanged.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import type { DeclarativeConfigError, FlattenedError } from './errors.ts';
import { ENTITY_SHAPES } from './schema/declarative.ts';

export interface LocatedError {
  /** 1-based; 0 when nothing in the text could be matched (e.g. an empty file). */
  line: number;
  col: number;
  /** `routes[0].paths`, `services[0].routes[1]`, `routes[r1]`; empty for the whole file. */
  path: string;
  message: string;
}

type Segment = string | number;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Renders a path the way a reader of the file would write it. */
export function renderPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A parsed document that answers "where is this path?" with the closest node it has. */
class SourceLocator {
  readonly #doc;
  readonly #lines = new LineCounter();

  constructor(text: string) {
    this.#doc = parseDocument(text, { lineCounter: this.#lines, uniqueKeys: false, keepSourceTokens: false });
  }

  /** The first YAML parse error, located, if the text does not parse. */
  parseError(): { line: number; col: number; message: string } | null {
    const err = this.#doc.errors[0];
    if (!err) return null;
    const pos = err.linePos?.[0];
    return { line: pos?.line ?? 0, col: pos?.col ?? 0, message: err.message.split('\n')[0]! };
  }

  position(node: YamlNode | null | undefined): { line: number; col: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 0, col: 0 };
    return this.#lines.linePos(offset);
  }

  /**
   * Walks `path` down the document; a segment that does not resolve (a missing required field,
   * a keyed entity) stops at the deepest node found. A string segment under a sequence is
   * Kong's name/id key for an entity: the item with that name, id or other key value.
   */
  locate(path: readonly Segment[]): YamlNode | null {
    let node = this.#doc.contents as YamlNode | null;
    for (const seg of path) {
      const next = this.#child(node, seg);
      if (!next) break;
      node = next;
    }
    return node;
  }

  #child(node: YamlNode | null, seg: Segment): YamlNode | null {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(seg)) {
          return (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
        }
      }
      return null;
    }
    if (isSeq(node)) {
      if (typeof seg === 'number') return (node.items[seg] as YamlNode | undefined) ?? null;
      const byValue = node.items.find((item) => isMap(item) && item.items.some((p) => isPair(p) && isScalar(p.value) && String(p.value.value) === seg));
      if (byValue) return byValue as YamlNode;
      // Lua turned the position list into 1-based keys.
      if (/^[1-9]\d*$/.test(seg)) return (node.items[Number(seg) - 1] as YamlNode | undefined) ?? null;
      return null;
    }
    return null;
  }

  /**
   * Finds the item of a `collection` sequence (anywhere, nested too) whose fields agree with
   * `entity` (Kong's flattened `entity`: the item as submitted, plus a foreign key when nested).
   */
  findEntity(collection: string, entity: Record<string, unknown>): Segment[] | null {
    const agrees = (item: unknown): boolean => {
      if (!isMap(item)) return false;
      const value = item.toJSON() as Record<string, unknown>;
      let common = 0;
      for (const [k, v] of Object.entries(value)) {
        if (!(k in entity)) continue;
        if (JSON.stringify(v) !== JSON.stringify(entity[k])) return false;
        common++;
      }
      return common > 0;
    };
    return this.#findInCollection(collection, agrees);
  }

  /** Kong's dotted field path (`config.minute`, `paths.2`, 1-based) as segments below `base`. */
  fieldPath(base: Segment[], field: string): Segment[] {
    const out = [...base];
    for (const part of field.split('.')) {
      const node = this.locate(out);
      out.push(isSeq(node) && /^\d+$/.test(part) ? Number(part) - 1 : part);
    }
    return out;
  }

  /**
   * A uniqueness violation keyed by a derived id (not in the file): the last item of the top-level
   * `collection` whose field has the value the message names, i.e. the duplicate.
   */
  findDuplicate(collection: string, messages: unknown): Segment[] | null {
    const text = Array.isArray(messages) ? messages[0] : messages;
    const m = typeof text === 'string' ? /with (\w+) set to '(.*)' already declared/.exec(text) : null;
    const seq = this.locate([collection]);
    if (!m || !isSeq(seq) || m[1] === 'primary') return null;
    for (let i = seq.items.length - 1; i >= 0; i--) {
      const item = seq.items[i];
      if (isMap(item) && String((item.toJSON() as Record<string, unknown>)[m[1]!]) === m[2]) return [collection, i];
    }
    return null;
  }

  /** Searches the whole document for an entity of `collection` keyed `key` (nested ones too). */
  findKeyed(collection: string, key: string): Segment[] | null {
    return this.#findInCollection(collection, (item) => isMap(item) && item.items.some((p) => isPair(p) && isScalar(p.value) && String(p.value.value) === key));
  }

  /** The first item, depth first, of any `collection` sequence in the document that `matches`. */
  #findInCollection(collection: string, matches: (item: unknown) => boolean): Segment[] | null {
    const search = (node: YamlNode | null, at: Segment[]): Segment[] | null => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isPair(pair) || !isScalar(pair.key)) continue;
          const name = String(pair.key.value);
          const value = pair.value as YamlNode | null;
          if (name === collection && isSeq(value)) {
            const i = value.items.findIndex(matches);
            if (i >= 0) return [...at, name, i];
          }
          const found = search(value, [...at, name]);
          if (found) return found;
        }
      } else if (isSeq(node)) {
        for (let i = 0; i < node.items.length; i++) {
          const found = search(node.items[i] as YamlNode, [...at, i]);
          if (found) return found;
        }
      }
      return null;
    };
    return search(this.#doc.contents as YamlNode | null, []);
  }
}

/**
 * One located line per message in a declarative-config error. `text` is what was parsed, so the
 * positions are those of the file as the user wrote it (JSON parses as YAML with the same ranges).
 */
export function locateErrors(text: string, error: Pick<DeclarativeConfigError, 'fields'>): LocatedError[] {
  const locator = new SourceLocator(text);
  const out: LocatedError[] = [];
  const fields = error.fields;
  // A parse failure: `{error = "failed parsing …"}`; YAML knows where it stopped.
  if (Object.keys(fields).length === 1 && typeof fields.error === 'string') {
    const pe = locator.parseError();
    out.push({ line: pe?.line ?? 1, col: pe?.col ?? 1, path: '', message: fields.error });
    return out;
  }
  const emit = (path: Segment[], message: string) => {
    const { line, col } = locator.position(locator.locate(path));
    out.push({ line, col, path: renderPath(path), message });
  };
  /** `path` as written in the tree; `source` where it really is, once a keyed entity was resolved. */
  const walk = (node: unknown, path: Segment[], source: Segment[], keyedEntity: boolean) => {
    if (typeof node === 'string') {
      const { line, col } = locator.position(locator.locate(source));
      out.push({ line, col, path: renderPath(path), message: node });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        if (child === null || child === undefined) return;
        // Reference errors are a list of messages about the keyed entity itself.
        if (keyedEntity) walk(child, path, source, false);
        else walk(child, [...path, i], [...source, i], false);
      });
      return;
    }
    if (!isRecord(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (key === '@entity') {
        for (const m of Array.isArray(child) ? child : [child]) if (typeof m === 'string') emit(source, m);
        continue;
      }
      // A string key directly under a top-level collection: Kong's name/id key for an entity.
      if (path.length === 1 && typeof path[0] === 'string' && !/^\d+$/.test(key)) {
        const at = locator.findKeyed(path[0], key) ?? locator.findDuplicate(path[0], child);
        if (at) { walk(child, at, at, true); continue; }
      }
      // Numeric keys under a collection: Lua's 1-based positions, shown as the file's index.
      const seg = /^\d+$/.test(key) && path.length === 1 ? Number(key) - 1 : key;
      walk(child, [...path, seg], [...source, seg], path.length === 1);
    }
  };
  walk(fields, [], [], false);
  return out;
}

const COLLECTION_OF_TYPE = new Map(Object.entries(ENTITY_SHAPES).map(([collection, shape]) => [shape.singular, collection]));

/**
 * Locates Kong's flattened errors (`POST /config?flatten_errors=1`, where `fields` is empty) in the
 * text that was sent: the entity by its content, the field below it by its dotted path.
 */
export function locateFlattenedErrors(text: string, flattened: readonly FlattenedError[]): LocatedError[] {
  const locator = new SourceLocator(text);
  const out: LocatedError[] = [];
  for (const fe of flattened) {
    const collection = COLLECTION_OF_TYPE.get(fe.entity_type) ?? `${fe.entity_type}s`;
    const base = locator.findEntity(collection, fe.entity) ?? [collection];
    for (const e of fe.errors) {
      const path = e.type === 'field' && e.field ? locator.fieldPath(base, e.field) : base;
      const { line, col } = locator.position(locator.locate(path));
      out.push({ line, col, path: renderPath(path), message: e.message });
    }
  }
  return out;
}

/** `file:line:col: path: message`, one per line, sorted by position. */
export function formatLocated(file: string, located: readonly LocatedError[]): string {
  return [...located]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .map((e) => `${file}:${e.line}:${e.col}: ${e.path ? `${e.path}: ` : ''}${e.message}`)
    .join('\n');
}

/** `file:line:col: path: message`, one per line, sorted by position. */
export function formatLocatedErrors(file: string, text: string, error: Pick<DeclarativeConfigError, 'fields'>): string {
  return formatLocated(file, locateErrors(text, error));
}

