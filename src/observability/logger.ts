/**
 * @module observability/logger
 * One pino logger per process: JSON lines on stdout, human-readable when stdout is a terminal is
 * left to `pino-pretty` (optional). Credentials are redacted wherever a request's headers are logged.
 */
import { pino, type Logger } from 'pino';
import type { PluginLogger } from '../plugins/api.ts';

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg', 'silent'] as const;

/** Kong's levels mapped onto pino's. */
function pinoLevel(level: string): string {
  switch (level) {
    case 'notice': return 'info';
    case 'crit': case 'alert': case 'emerg': return 'fatal';
    default: return level;
  }
}

export function createLogger(level = 'notice', bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: pinoLevel(level),
    base: { pid: process.pid, ...bindings },
    redact: {
      paths: ['*.headers.authorization', '*.headers["proxy-authorization"]', '*.headers.apikey', '*.headers.cookie', 'request.headers.authorization'],
      censor: 'REDACTED',
    },
  });
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
