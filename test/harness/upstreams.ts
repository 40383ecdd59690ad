/**
 * @module test/harness/upstreams
 * Real upstream servers for tests, each misbehaving in one way a real service does: answering,
 * refusing connections, hanging before headers, resetting mid-response, speaking garbage,
 * dripping slowly. All on 127.0.0.1, closed by `close()`.
 */
import http from 'node:http';
import net from 'node:net';
import { freePort } from './ports.ts';

export interface Upstream { port: number; url: string; requests: RecordedRequest[]; close(): Promise<void> }
export interface RecordedRequest { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

function done(server: net.Server) {
  return () => new Promise<void>((r) => { (server as http.Server).closeAllConnections?.(); server.close(() => r()); });
}

/** Answers every request with a JSON description of what it received (and records it). */
export async function startRecordingUpstream(respond?: (req: RecordedRequest, res: http.ServerResponse) => void): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(rec);
      if (respond) return respond(rec, res);
      const body = JSON.stringify(rec);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, requests, close: done(server) };
}

/** A port nothing listens on. */
export async function refusingPort(): Promise<number> { return freePort(); }

/** Accepts connections and never answers. */
export async function startHangingUpstream(): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, url: `http://127.0.0.1:${port}`, requests: [],
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Answers with raw bytes (garbage, partial responses, resets). */
export async function startRawUpstream(onConnection: (s: net.Socket) => void): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); s.once('data', () => onConnection(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, url: `http://127.0.0.1:${port}`, requests: [],
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
