/**
 * @module echo/echo-server
 * An HTTP echo upstream that answers like Kong's go-echo image (the walkthrough's `echo`
 * Deployment): a banner built from NODE_NAME, POD_NAME, POD_NAMESPACE, POD_IP and SERVICE_ACCOUNT
 * (a line only for each variable that is set), `?details=true` request details, then the request
 * body and a newline. Go sniffs the body and answers `text/plain; charset=utf-8`; so do we.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoEnv {
  NODE_NAME?: string;
  POD_NAME?: string;
  POD_NAMESPACE?: string;
  POD_IP?: string;
  SERVICE_ACCOUNT?: string;
}

export function echoBanner(env: EchoEnv): string {
  let message = '';
  if (env.NODE_NAME) message += `Welcome, you are connected to node ${env.NODE_NAME}.\n`;
  if (env.POD_NAME) message += `Running on Pod ${env.POD_NAME}.\n`;
  if (env.POD_NAMESPACE) message += `In namespace ${env.POD_NAMESPACE}.\n`;
  if (env.POD_IP) message += `With IP address ${env.POD_IP}.\n`;
  if (env.SERVICE_ACCOUNT) message += `Service account ${env.SERVICE_ACCOUNT}.\n`;
  return message;
}

export function createEchoServer(env: EchoEnv = process.env): http.Server {
  const banner = echoBanner(env);
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      let out = banner;
      const url = new URL(req.url ?? '/', 'http://echo');
      if (url.searchParams.get('details') === 'true') {
        out += '\nHTTP request details\n---------------------\n'
          + `Protocol: HTTP/${req.httpVersion}\nHost: ${req.headers.host ?? ''}\nMethod: ${req.method}\nURL: ${req.url}\n`;
      }
      const body = Buffer.concat([Buffer.from(out), ...chunks, Buffer.from('\n')]);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
}

export async function startEchoServer(host: string, port: number, env: EchoEnv = process.env): Promise<{ server: http.Server; port: number }> {
  const server = createEchoServer(env);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
