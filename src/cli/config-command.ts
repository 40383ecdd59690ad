/**
 * @module cli/config-command
 * `turnpike config validate FILE`: the same parse and validation as `POST /config`, offline, with
 * each error located in the file (`kong.yml:12:7: routes[0].paths: …`); `--json` prints Kong's body.
 * `turnpike config diff A B`: what changes, entity by entity, when B replaces A.
 */
import { parseConfigText } from '../config/load.ts';
import { parseFailure, validateConfig } from '../config/validate.ts';
import { declarativeErrorBody, type DeclarativeConfigError } from '../config/errors.ts';
import type { Config } from '../config/entities.ts';
import { formatLocatedErrors } from '../config/source-map.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import type { PluginDefinition } from '../plugins/api.ts';
import { diffConfigs } from './config-diff.ts';
import { readFileOrFail } from './main.ts';

type Loaded = { ok: true; config: Config } | { ok: false; error: DeclarativeConfigError; text: string; parse: boolean };

function loadFile(file: string, registry: ReadonlyMap<string, PluginDefinition>): Loaded {
  const text = readFileOrFail(file);
  let parsed: unknown;
  try {
    parsed = parseConfigText(text, file);
  } catch (err) {
    return { ok: false, error: parseFailure((err as Error).message), text, parse: true };
  }
  const result = validateConfig(parsed, registry);
  return result.ok ? { ok: true, config: result.config } : { ok: false, error: result.error, text, parse: false };
}

export async function validateFile(file: string, pluginPaths: string[], json = false): Promise<number> {
  const registry = await loadPluginRegistry(pluginPaths);
  const loaded = loadFile(file, registry);
  if (!loaded.ok) {
    if (!json) process.stderr.write(`${formatLocatedErrors(file, loaded.text, loaded.error)}\n`);
    // The same body as POST /config?flatten_errors=1, plus the full tree for humans.
    else if (loaded.parse) process.stderr.write(`${JSON.stringify(declarativeErrorBody(loaded.error, false), null, 2)}\n`);
    else process.stderr.write(`${JSON.stringify({ ...declarativeErrorBody(loaded.error, true), fields: loaded.error.fields, message: loaded.error.message }, null, 2)}\n`);
    return 1;
  }
  const c = loaded.config;
  process.stdout.write(`${file}: valid (${c.services.length} services, ${c.routes.length} routes, ${c.upstreams.length} upstreams, ${c.consumers.length} consumers, ${c.plugins.length} plugins)\n`);
  return 0;
}

/** Exit 0 when the files declare the same entities, 1 when they differ, 2 when one is invalid (as `diff`). */
export async function diffFiles(before: string, after: string, pluginPaths: string[]): Promise<number> {
  const registry = await loadPluginRegistry(pluginPaths);
  const a = loadFile(before, registry);
  const b = loadFile(after, registry);
  let invalid = false;
  for (const [file, l] of [[before, a], [after, b]] as const) {
    if (l.ok) continue;
    invalid = true;
    process.stderr.write(`${formatLocatedErrors(file, l.text, l.error)}\n`);
  }
  if (invalid || !a.ok || !b.ok) return 2;
  const diff = diffConfigs(a.config, b.config);
  if (diff.lines.length > 0) process.stdout.write(`${diff.lines.join('\n')}\n`);
  return diff.equal ? 0 : 1;
}
