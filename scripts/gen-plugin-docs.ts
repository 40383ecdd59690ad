/**
 * Writes docs/plugins.md from the bundled plugins' schemas. src/plugins/reference.test.ts fails
 * when the file and the schemas differ.
 *
 *   node --import tsx scripts/gen-plugin-docs.ts
 */
import { writeFileSync } from 'node:fs';
import { BUNDLED_PLUGINS } from '../src/plugins/bundled.ts';
import { renderPluginReference } from '../src/plugins/reference.ts';

const file = new URL('../docs/plugins.md', import.meta.url);
writeFileSync(file, renderPluginReference(BUNDLED_PLUGINS));
process.stdout.write(`${file.pathname}: ${BUNDLED_PLUGINS.length} plugins\n`);
