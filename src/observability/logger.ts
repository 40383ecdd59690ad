/**
 * @module observability/logger
 * One pino logger per process: JSON lines on stdout, or one human-readable line per record when
 * stdout is a terminal (formatter below; no pino-pretty). Credentials are redacted wherever a
 * request's headers are logged.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { PluginLogger } from '../plugins/api.ts';

/** Kong's `log_level` values (plus pino's `silent`). */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg', 'silent'] as const;
export const DEFAULT_LOG_LEVEL = 'info';

/** Kong's levels mapped onto pino's. */
function pinoLevel(level: string): string {
  switch (level) {
    case 'notice': return 'info';
    case 'crit': case 'alert': case 'emerg': return 'fatal';
    default: return level;
  }
}

export function assertLogLevel(level: string): void {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`invalid log level '${level}': expected one of ${LOG_LEVELS.join(', ')}`);
  }
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 20: '\x1b[90m', 30: '\x1b[32m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };
/** Fields every record has; the human line shows them in its head, not among the extras. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'role']);

function renderValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object') {
    const err = v as { type?: string; message?: string; stack?: string };
    // pino's serialized errors: the message is what a reader needs on one line.
    if (typeof err.message === 'string' && typeof err.stack === 'string') return JSON.stringify(`${err.type ?? 'Error'}: ${err.message}`);
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * One pino JSON record -> `HH:MM:SS.mmm INFO  [worker 1234] message key=value …`.
 * A line that is not a record (it cannot happen with pino, but a formatter must not throw) passes as is.
 */
export function formatHumanLine(json: string, colour = false): string {
  let rec: Record<string, unknown>;
  try { rec = JSON.parse(json) as Record<string, unknown>; } catch { return json.endsWith('\n') ? json : json + '\n'; }
  const level = Number(rec.level);
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '';
  const name = (LEVEL_NAMES[level] ?? String(rec.level)).padEnd(5);
  const who = [rec.role, rec.pid].filter((x) => x !== undefined).join(' ');
  let line = `${time} ${colour ? `${LEVEL_COLOURS[level] ?? ''}${name}\x1b[0m` : name} [${who}] ${typeof rec.msg === 'string' ? rec.msg : ''}`;
  for (const k of Object.keys(rec)) {
    if (HEAD_FIELDS.has(k)) continue;
    line += ` ${k}=${renderValue(rec[k])}`;
  }
  return line.replace(/\n/g, '\\n') + '\n';
}

/** A destination that writes each record as a human line (for terminals). */
function humanDestination(out: NodeJS.WriteStream): DestinationStream {
  const colour = out.hasColors?.() ?? false;
  return { write: (chunk: string) => { out.write(formatHumanLine(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk, colour)); } };
}

export function createLogger(level = DEFAULT_LOG_LEVEL, bindings: Record<string, unknown> = {}): Logger {
  assertLogLevel(level);
  const options = {
    level: pinoLevel(level),
    base: { pid: process.pid, ...bindings },
    redact: {
      paths: ['*.headers.authorization', '*.headers["proxy-authorization"]', '*.headers.apikey', '*.headers.cookie', 'request.headers.authorization'],
      censor: 'REDACTED',
    },
  };
  // TURNPIKE_LOG_FORMAT=json keeps JSON on a terminal too (and `human` forces the human lines).
  const format = process.env.TURNPIKE_LOG_FORMAT;
  const human = format === 'human' || (format !== 'json' && process.stdout.isTTY === true);
  return human ? pino(options, humanDestination(process.stdout)) : pino(options);
}

export function pluginLogger(log: Logger, name?: string): PluginLogger {
  const l = name ? log.child({ plugin: name }) : log;
  return {
    debug: (msg, extra) => l.debug(extra ?? {}, msg),
    info: (msg, extra) => l.info(extra ?? {}, msg),
    warn: (msg, extra) => l.warn(extra ?? {}, msg),
    error: (msg, extra) => l.error(extra ?? {}, msg),
  };
}
