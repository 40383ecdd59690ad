/**
 * @module test/harness/keep-alive-client
 * GET requests over one kept-alive connection (an http.Agent with a single socket), counting the
 * connections used, so a test can check that several requests really shared one.
 */
import http from 'node:http';

export interface KeepAliveClient {
  get(path: string, headers?: Readonly<Record<string, string>>): Promise<{ status: number; body: string }>;
  /** How many distinct sockets the requests so far went on. */
  connections(): number;
  close(): void;
}

export function keepAliveClient(port: number): KeepAliveClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  return {
    get: (path, headers = {}) => new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('error', reject);
    }),
    connections: () => sockets.size,
    close: () => agent.destroy(),
  };
}
