/**
 * @module cli/start-command
 * `npm start`: the getting-started walkthrough on one machine. It starts the echo upstream (the
 * walkthrough's go-echo Deployment), then runs a gateway from the walkthrough's Kubernetes
 * manifests in `examples/getting-started/` the way `turnpike run` does (the echo Service resolves
 * to the local echo server), and prints what to try.
 */
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../echo/echo-server.ts';
import type { GatewayOptions } from '../gateway/supervisor.ts';
import { runCommand } from './manifest-commands.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/getting-started/', import.meta.url));

export async function startExample(options: Omit<GatewayOptions, 'initialConfig'>): Promise<void> {
  const echoPort = Number(process.env.TURNPIKE_ECHO_PORT ?? 1027);
  await startEchoServer('127.0.0.1', echoPort, {
    NODE_NAME: process.env.NODE_NAME ?? 'localhost',
    POD_NAME: process.env.POD_NAME ?? `echo-${process.pid}`,
    POD_NAMESPACE: process.env.POD_NAMESPACE ?? 'kong',
    POD_IP: process.env.POD_IP ?? '127.0.0.1',
  });
  const gw = await runCommand({ file: [EXAMPLE], backend: [`kong/echo=127.0.0.1:${echoPort}`], ingressClass: 'kong', watch: true }, options);
  const p = gw.proxy[0];
  const host = !p || p.host === '0.0.0.0' || p.host === '::' ? 'localhost' : p.host;
  const url = `http://${host}:${p?.port ?? 8000}`;
  process.stdout.write([
    '',
    `echo upstream on http://127.0.0.1:${echoPort}; manifests from ${EXAMPLE} (edit them: changes apply at once)`,
    `Proxy: ${url}`,
    'Try:',
    `  curl -i ${url}/echo                              # 401, No API key found in request`,
    `  curl -i ${url}/echo -H 'apikey: hello_world'     # 200 from echo, X-Cache-Status: Miss then Hit`,
    `  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\\n' ${url}/echo -H 'apikey: hello_world'; done   # ... then 429`,
    '',
  ].join('\n'));
}
