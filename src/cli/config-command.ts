/**
 * @module cli/config-command
 * `turnpike config validate FILE`: the same parse and validation as `POST /config`, offline.
 */
import { parseConfigText } from '../config/load.ts';
import { parseFailure, validateConfig } from '../config/validate.ts';
import { declarativeErrorBody } from '../config/errors.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import { readFileOrFail } from './main.ts';

export async function validateFile(file: string, pluginPaths: string[]): Promise<number> {
  const text = readFileOrFail(file);
  const registry = await loadPluginRegistry(pluginPaths);
  let parsed: unknown;
  try {
    parsed = parseConfigText(text, file);
  } catch (err) {
    process.stderr.write(`${JSON.stringify(declarativeErrorBody(parseFailure((err as Error).message), false), null, 2)}\n`);
    return 1;
  }
  const result = validateConfig(parsed, registry);
  if (!result.ok) {
    // The same body as POST /config?flatten_errors=1, plus the full tree for humans.
    process.stderr.write(`${JSON.stringify({ ...declarativeErrorBody(result.error, true), fields: result.error.fields, message: result.error.message }, null, 2)}\n`);
    return 1;
  }
  const c = result.config;
  process.stdout.write(`${file}: valid (${c.services.length} services, ${c.routes.length} routes, ${c.upstreams.length} upstreams, ${c.consumers.length} consumers, ${c.plugins.length} plugins)\n`);
  return 0;
}
