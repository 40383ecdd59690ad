/**
 * @module test/k8s-api/selectors
 * Label and field selectors as the API server parses them from `labelSelector` and `fieldSelector`.
 * Labels: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. Fields: `path=v`,
 * `path==v`, `path!=v` on any dotted path (the real server allows only a per-kind set, typically
 * `metadata.name` and `metadata.namespace`; being more permissive costs clients nothing).
 */
import type { JsonObject } from './resources.ts';

export type Matcher = (obj: JsonObject) => boolean;

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const tests: ((labels: Record<string, string>) => boolean)[] = [];
  for (const term of splitTerms(selector)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/))) {
      const [, key, op, list] = m;
      const values = list.split(',').map((v) => v.trim());
      tests.push(op === 'in' ? (l) => key in l && values.includes(l[key]) : (l) => !(key in l) || !values.includes(l[key]));
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      const [, key, op, value] = m;
      tests.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      const key = m[1];
      tests.push((l) => !(key in l));
    } else if ((m = term.match(/^(\S+)$/))) {
      const key = m[1];
      tests.push((l) => key in l);
    } else {
      throw new SelectorError(`unable to parse requirement: ${term}`);
    }
  }
  return (obj) => {
    const labels = ((obj.metadata as JsonObject | undefined)?.labels ?? {}) as Record<string, string>;
    return tests.every((t) => t(labels));
  };
}

function fieldValue(obj: JsonObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as JsonObject)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseFieldSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const tests: Matcher[] = [];
  for (const term of splitTerms(selector)) {
    const m = term.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, path, op, value] = m;
    tests.push(op === '!=' ? (o) => fieldValue(o, path) !== value : (o) => fieldValue(o, path) === value);
  }
  return (obj) => tests.every((t) => t(obj));
}
