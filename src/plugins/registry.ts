/**
 * @module plugins/registry
 * The set of plugins a gateway knows: the bundled ones plus user plugins loaded from files
 * (`--plugin ./my-plugin.ts` or the `TURNPIKE_PLUGINS` list). A user plugin is a module whose
 * default export is a `PluginDefinition`; it may replace a bundled plugin of the same name only
 * when asked to, never by accident.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { PluginDefinition } from './api.ts';
import { BUNDLED_PLUGINS } from './bundled.ts';

export type PluginRegistry = ReadonlyMap<string, PluginDefinition>;

function isDefinition(v: unknown): v is PluginDefinition {
  const d = v as PluginDefinition;
  return !!d && typeof d.name === 'string' && typeof d.priority === 'number' && typeof d.create === 'function' && typeof d.schema === 'object';
}

export async function loadPluginRegistry(paths: readonly string[] = []): Promise<PluginRegistry> {
  const map = new Map<string, PluginDefinition>();
  for (const p of BUNDLED_PLUGINS) map.set(p.name, p);
  for (const path of paths) {
    const mod = await import(pathToFileURL(resolve(path)).href) as { default?: unknown; plugin?: unknown };
    const def = mod.default ?? mod.plugin;
    if (!isDefinition(def)) {
      throw new Error(`plugin file '${path}' must export a plugin definition (definePlugin({...})) as its default export`);
    }
    if (map.has(def.name)) throw new Error(`plugin '${def.name}' from '${path}' has the name of an already loaded plugin`);
    map.set(def.name, def);
  }
  return map;
}
