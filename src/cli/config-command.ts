/**
 * @module cli/config-command
 * `turnpike config validate FILE`: the same parse and validation as `POST /config`, offline.
 */
import { parseConfigText } from '../config/load.ts';
import { validateConfig } from '../config/validate.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import { readFileOrFail } from './main.ts';

export async function validateFile(file: string, pluginPaths: string[]): Promise<number> {
  const text = readFileOrFail(file);
  const registry = await loadPluginRegistry(pluginPaths);
  let parsed: unknown;
  try {
    parsed = parseConfigText(text, file);
  } catch (err) {
    const message = (err as Error).message;
    process.stderr.write(`${JSON.stringify({ code: 14, name: 'invalid declarative configuration', message: `declarative config is invalid: {error="${message}"}`, fields: { error: message } }, null, 2)}\n`);
    return 1;
  }
  const result = validateConfig(parsed, registry);
  if (!result.ok) {
    process.stderr.write(`${JSON.stringify(result.error, null, 2)}\n`);
    return 1;
  }
  const c = result.config;
  process.stdout.write(`${file}: valid (${c.services.length} services, ${c.routes.length} routes, ${c.upstreams.length} upstreams, ${c.consumers.length} consumers, ${c.plugins.length} plugins)\n`);
  return 0;
}
