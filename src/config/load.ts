/**
 * @module config/load
 * Turns declarative config text into a plain object: JSON first, YAML when JSON fails (as Kong
 * does), with Kong's `failed parsing declarative configuration: …` errors.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigParseError } from './errors.ts';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses `text` (JSON or YAML). `filename` picks the order: `.json` files are JSON only, `.yml`
 * / `.yaml` files go straight to YAML; otherwise JSON is tried first.
 * @throws ConfigParseError when the text does not parse or is not an object.
 */
export function parseConfigText(text: string, filename?: string): unknown {
  const ext = filename?.toLowerCase().match(/\.(json|ya?ml)$/)?.[1];
  let value: unknown;
  let parsed = false;
  if (ext !== 'yml' && ext !== 'yaml') {
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch (e) {
      if (ext === 'json') throw new ConfigParseError(e instanceof Error ? e.message : String(e));
    }
  }
  if (!parsed) {
    try {
      // `uniqueKeys: false`: later keys win, as lyaml does.
      value = parseYaml(text, { uniqueKeys: false, maxAliasCount: 10000 });
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      throw new ConfigParseError(msg);
    }
  }
  if (!isPlainObject(value)) throw new ConfigParseError('expected an object');
  return value;
}
