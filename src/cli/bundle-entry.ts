/**
 * @module cli/bundle-entry
 * The entry of the single-file build (`npm run build` → dist/turnpike.mjs). Workers forked by
 * node:cluster run the same file (process.argv[1]) and take main()'s worker path.
 */
import { main } from './main.ts';

await main(process.argv);
