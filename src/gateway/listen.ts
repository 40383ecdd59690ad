/**
 * @module gateway/listen
 * Parses Kong-style listen strings: `0.0.0.0:8000, 0.0.0.0:8443 ssl`, `[::1]:8001`, `off`.
 */
export interface ListenAddress { host: string; port: number; ssl: boolean }

export function parseListen(value: string): ListenAddress[] {
  const v = value.trim();
  if (v === '' || v === 'off') return [];
  return v.split(',').map((entry) => {
    const parts = entry.trim().split(/\s+/);
    const hostPort = parts[0]!;
    const flags = new Set(parts.slice(1));
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(hostPort);
    if (!m) throw new Error(`invalid listen address '${entry.trim()}': expected HOST:PORT [ssl]`);
    const port = Number(m[3]);
    if (port < 0 || port > 65535) throw new Error(`invalid listen address '${entry.trim()}': port out of range`);
    return { host: m[1] ?? m[2]!, port, ssl: flags.has('ssl') };
  });
}

export function formatListen(a: ListenAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
