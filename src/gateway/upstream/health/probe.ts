/**
 * @module gateway/upstream/health/probe
 * One active health probe, done the way lua-resty-healthcheck does it: a raw socket, a TCP connect
 * (plus a TLS handshake for https), then for http(s) a one-shot `GET <http_path> HTTP/1.1` with
 * `Connection: close`, reading only the status line. Raw sockets rather than an HTTP client so a
 * garbled status line counts as status 0 (unhealthy) and nothing is pooled between probes.
 * Each phase (connect, handshake, waiting for the status line) gets the full `timeout`, as the
 * Lua socket timeout applies per operation.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeOutcome } from './target-health.ts';

export interface ProbeRequest {
  /** Where to connect (an IP, or a hostname the OS resolver will look up). */
  readonly address: string;
  readonly port: number;
  readonly type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
  readonly timeoutMs: number;
  readonly path: string;
  /** Host header value (no port, as Kong sends it). */
  readonly host: string;
  /** Extra request header lines, already serialized (`Name: value\r\n` each). */
  readonly headerLines: string;
  readonly sni: string | null;
  readonly verifyCertificate: boolean;
}

const STATUS_LINE = /^HTTP\/\d+\.\d+\s+(\d+)/i;
const MAX_STATUS_LINE = 8192;

/** Serializes `active.headers` (name -> values) into request header lines. */
export function serializeProbeHeaders(headers: Record<string, string[]> | null | undefined): string {
  if (!headers) return '';
  let out = '';
  for (const [name, values] of Object.entries(headers)) {
    for (const v of Array.isArray(values) ? values : [values]) out += `${name}: ${String(v)}\r\n`;
  }
  return out;
}

/**
 * Runs one probe. `register` receives the socket so an owner can destroy it on shutdown; the
 * returned promise then settles with a tcp_error (the caller ignores results after stopping).
 */
export function probe(req: ProbeRequest, register?: (socket: Socket) => () => void): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    const tls = req.type === 'https' || req.type === 'grpcs';
    const servername = req.sni ?? (isIP(req.host) ? undefined : req.host);
    const socket: Socket = tls
      ? tlsConnect({ host: req.address, port: req.port, servername, rejectUnauthorized: req.verifyCertificate })
      : netConnect({ host: req.address, port: req.port });
    const unregister = register ? register(socket) : () => {};
    let settled = false;
    let buffered = '';

    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unregister();
      socket.destroy();
      resolve(outcome);
    };
    let timer = setTimeout(() => finish({ kind: 'timeout' }), req.timeoutMs);
    const restartTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'timeout' }), req.timeoutMs);
    };

    socket.once(tls ? 'secureConnect' : 'connect', () => {
      if (req.type === 'tcp') return finish({ kind: 'tcp_success' });
      restartTimer();
      socket.write(`GET ${req.path} HTTP/1.1\r\nHost: ${req.host}\r\nConnection: close\r\n${req.headerLines}\r\n`);
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const eol = buffered.indexOf('\n');
      if (eol === -1 && buffered.length < MAX_STATUS_LINE) return;
      const line = eol === -1 ? buffered : buffered.slice(0, eol);
      const m = STATUS_LINE.exec(line);
      finish({ kind: 'http', status: m ? Number(m[1]) : 0 });
    });
    // A refused/reset connection, a failed TLS handshake, or a close before the status line.
    socket.on('error', () => finish({ kind: 'tcp_error' }));
    socket.on('close', () => finish({ kind: 'tcp_error' }));
  });
}
