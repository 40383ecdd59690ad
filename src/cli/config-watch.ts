/**
 * @module cli/config-watch
 * `turnpike gateway --config FILE --watch`: reloads the file when it changes. The folder is
 * watched, not the file, because editors save by writing a new file and renaming it over the old
 * one (the old inode, and a watch on it, is gone), and ConfigMap volumes swap a symlink. Changes are debounced; a refused file leaves
 * the running configuration in place and its errors, located in the file, go to stderr.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RunningGateway } from '../gateway/supervisor.ts';
import type { DeclarativeConfigError } from '../config/errors.ts';
import { formatLocatedErrors } from '../config/source-map.ts';

/** Long enough to see a write-then-rename as one change, short enough to feel immediate. */
const DEBOUNCE_MS = 150;
/** When the Admin API is loading a config at the same moment. */
const BUSY_RETRY_MS = 500;

/** Located `file:line:col: path: message` lines for a refused config, or its message. */
export function describeRefusal(file: string, text: string, detail: unknown): string {
  const fields = (detail as Partial<DeclarativeConfigError> | null)?.fields;
  if (fields && typeof fields === 'object' && Object.keys(fields).length > 0) return formatLocatedErrors(file, text, { fields });
  const message = (detail as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(detail, null, 2);
}

export function watchConfigFile(file: string, gw: Pick<RunningGateway, 'apply'>): FSWatcher {
  const path = resolve(file);
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let again = false;
  let lastText: string | null = null;
  try { lastText = readFileSync(path, 'utf8'); } catch { /* reported on the first change */ }

  const reload = async (): Promise<void> => {
    if (running) { again = true; return; }
    running = true;
    try {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return; // mid-replace or deleted: the next event brings the new file
      }
      if (text === lastText) return;
      const r = await gw.apply(text, `file:${path}`, { filename: file, checkHash: true });
      switch (r.kind) {
        case 'applied':
          lastText = text;
          process.stdout.write(`${file}: reloaded (configuration hash ${r.loaded.hash})\n`);
          break;
        case 'unchanged':
          lastText = text;
          break;
        case 'invalid':
          lastText = text;
          process.stderr.write(`${file}: refused, the running configuration is kept:\n${describeRefusal(file, text, r.error)}\n`);
          break;
        case 'busy':
          setTimeout(schedule, BUSY_RETRY_MS).unref();
          break;
        case 'failed':
          process.stderr.write(`${file}: not loaded: ${r.message}\n`);
          break;
        case 'exiting':
          break;
      }
    } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  };

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; void reload(); }, DEBOUNCE_MS);
  }

  // Any change in the folder is a candidate, not only events naming the file: a Kubernetes
  // ConfigMap volume swaps a `..data` symlink and never touches `kong.yml` itself. Unchanged text
  // is not applied again.
  const watcher = watch(dirname(path), { persistent: false }, () => schedule());
  watcher.on('error', (err) => process.stderr.write(`${file}: watching stopped: ${err.message}\n`));
  return watcher;
}
