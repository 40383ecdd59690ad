/**
 * @module cli/bundle-entry
 * The entry of the single-file build (`npm run build` → dist/turnpike.mjs). Workers forked by
 * node:cluster run the same file (process.argv[1]) and take enter()'s worker path.
 */
import { enter } from './entry.ts';

await enter(process.argv);
