/**
 * @module cli/start-command
 * `npm start`: the getting-started example on one machine. It starts the echo upstream (as the
 * walkthrough's go-echo Deployment would run) and a gateway on `examples/getting-started`, then
 * prints what to try.
 */
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../echo/echo-server.ts';
import type { GatewayOptions } from '../gateway/supervisor.ts';
import { startGateway } from './gateway-command.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/getting-started/kong.yml', import.meta.url));

export async function startExample(options: Omit<GatewayOptions, 'initialConfig'>): Promise<void> {
  const echoPort = Number(process.env.TURNPIKE_ECHO_PORT ?? 1027);
  await startEchoServer('127.0.0.1', echoPort, {
    NODE_NAME: process.env.NODE_NAME ?? 'localhost',
    POD_NAME: process.env.POD_NAME ?? `echo-${process.pid}`,
    POD_NAMESPACE: process.env.POD_NAMESPACE ?? 'kong',
    POD_IP: process.env.POD_IP ?? '127.0.0.1',
  });
  const gw = await startGateway(options, EXAMPLE);
  const p = gw.proxy[0];
  const host = !p || p.host === '0.0.0.0' || p.host === '::' ? 'localhost' : p.host;
  const url = `http://${host}:${p?.port ?? 8000}`;
  process.stdout.write([
    '',
    `echo upstream on http://127.0.0.1:${echoPort}; getting-started config from ${EXAMPLE}`,
    `Proxy: ${url}`,
    'Try:',
    `  curl -i ${url}/echo                              # 401, No API key found in request`,
    `  curl -i ${url}/echo -H 'apikey: hello_world'     # 200 from echo, X-Cache-Status: Miss then Hit`,
    `  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\\n' ${url}/echo -H 'apikey: hello_world'; done   # ... then 429`,
    '',
  ].join('\n'));
}
