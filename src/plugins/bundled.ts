/**
 * @module plugins/bundled
 * The plugins that ship with Turnpike. Each line imports one plugin folder's definition.
 */
import type { PluginDefinition } from './api.ts';

export const BUNDLED_PLUGINS: PluginDefinition[] = [
];
