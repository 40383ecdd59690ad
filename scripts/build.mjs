#!/usr/bin/env node
// `npm run build`: bundles the CLI into dist/turnpike.mjs, one ES module that plain `node` runs
// (no tsx). npm packages stay external (the production node_modules); Turnpike's own sources are
// inlined. A source that finds files beside itself (`new URL('../x', import.meta.url)`) gets its
// own original location under dist/, and those files are copied there, so dist/ is self-contained.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--outdir DIR`: the test suite builds its own copy there, so it never races `npm run build`.
const outArg = process.argv.indexOf('--outdir');
const dist = outArg > 0 ? resolve(process.argv[outArg + 1] ?? 'dist') : join(root, 'dist');
const outfile = join(dist, 'turnpike.mjs');

/** Files read at run time relative to a source file, placed where that file's URL will point. */
const ASSETS = ['examples/getting-started', 'src/dashboard/assets'];

const sourceUrls = {
  name: 'source-relative-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const own = `./${relative(root, args.path).split('\\').join('/')}`;
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  // Split at dynamic imports so they stay lazy: a gateway worker never loads the controller's
  // Kubernetes client (~90 MB) or the tracing SDK it does not use. Chunks sit beside the entry,
  // where the source-relative URLs above expect them.
  entryPoints: { turnpike: join(root, 'src/cli/bundle-entry.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [sourceUrls],
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
for (const a of ASSETS) cpSync(join(root, a), join(dist, a), { recursive: true });
// src/version.ts reads the version from the package.json above it.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);
process.stdout.write(`built ${relative(root, outfile)}\n`);
