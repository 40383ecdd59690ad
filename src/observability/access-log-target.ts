/**
 * @module observability/access-log-target
 * `--access-log stdout|stderr|off|FILE`, parsed and checked once in the primary before any worker
 * starts, so an unwritable path stops the start with a clear message instead of failing in every
 * worker.
 */
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';

export type AccessLogTarget = 'off' | 'stdout' | 'stderr' | { file: string };

export function parseAccessLogTarget(value: string | undefined): AccessLogTarget {
  const v = (value ?? 'off').trim();
  if (v === '' || v === 'off') return 'off';
  if (v === 'stdout' || v === 'stderr') return v;
  return { file: resolve(v) };
}

/**
 * Creates the file if needed and checks it can be appended to. Its folder must exist (a recursive
 * mkdir under e.g. /proc spins forever in Node 20; nginx does not create log folders either).
 */
export function checkAccessLogTarget(value: string | undefined): AccessLogTarget {
  const target = parseAccessLogTarget(value);
  if (typeof target === 'object') {
    try {
      closeSync(openSync(target.file, 'a'));
    } catch (err) {
      throw new Error(`cannot open access log '${target.file}': ${(err as Error).message}`);
    }
  }
  return target;
}
