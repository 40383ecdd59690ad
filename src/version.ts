/**
 * @module version
 * Turnpike's version, as it appears in `Server: turnpike/<version>` and `Via` headers.
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
