/**
 * The controller under faults, end to end with real processes: a KongPlugin whose config the
 * gateway refuses is left out (an Event names it) while everything else is applied; a KongConsumer
 * with a duplicate key is dropped with an Event; the Kubernetes API restarting does not lose
 * changes; a gateway that restarts empty gets the config again at once; the Ingress variant routes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubeApiServer } from '../k8s-api/server.ts';
import { startGateway, BIN } from '../harness/gateway-process.ts';
import { freePort } from '../harness/ports.ts';
import { startEchoServer } from '../../src/echo/echo-server.ts';

const run = promisify(execFile);
const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('controller faults: broken objects left out with Events, API restarts, gateway restarts empty', { timeout: 120_000 }, async () => {
  const api = await startKubeApiServer();
  cleanup.push(() => api.stop());
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-faults-'));
  const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
  const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
  const echo = await startEchoServer('127.0.0.1', 0, { NODE_NAME: 'n' });
  cleanup.push(() => { echo.server.closeAllConnections(); echo.server.close(); });
  let gw = await startGateway({ waitReady: false });
  cleanup.push(() => gw.stop());
  const [health, metrics] = [await freePort(), await freePort()];
  const controller = spawn(process.execPath, [BIN, 'controller', '--kubeconfig', kubeconfig, '--gateway-admin-url', gw.admin,
    '--health-probe-listen', `127.0.0.1:${health}`, '--metrics-listen', `127.0.0.1:${metrics}`, '--no-leader-election', '--log-level', 'error'],
    { stdio: 'ignore' });
  cleanup.push(() => { controller.kill('SIGTERM'); });

  writeFileSync(join(dir, 'all.yaml'), `
apiVersion: v1
kind: Namespace
metadata: {name: kong}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kong}
spec: {controller: ingress-controllers.konghq.com/kong}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: kong}
spec: {ports: [{port: 1027, name: http, targetPort: 1027}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: kong, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
ports: [{name: http, port: ${echo.port}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: kong
  annotations: {konghq.com/strip-path: 'true', konghq.com/plugins: 'broken-limit,add-header'}
spec:
  ingressClassName: kong
  rules:
  - http:
      paths:
      - {path: /echo, pathType: ImplementationSpecific, backend: {service: {name: echo, port: {number: 1027}}}}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: broken-limit, namespace: kong}
plugin: rate-limiting
config: {minute: 5, policy: cluster}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: add-header, namespace: kong}
plugin: response-transformer
config: {add: {headers: ["x-from-plugin:yes"]}}
---
apiVersion: v1
kind: Secret
metadata: {name: k1, namespace: kong, labels: {konghq.com/credential: key-auth}}
stringData: {key: same-key}
---
apiVersion: v1
kind: Secret
metadata: {name: k2, namespace: kong, labels: {konghq.com/credential: key-auth}}
stringData: {key: same-key}
---
apiVersion: configuration.konghq.com/v1
kind: KongConsumer
metadata: {name: first, namespace: kong, annotations: {kubernetes.io/ingress.class: kong}}
username: first
credentials: [k1]
---
apiVersion: configuration.konghq.com/v1
kind: KongConsumer
metadata: {name: second, namespace: kong, annotations: {kubernetes.io/ingress.class: kong}}
username: second
credentials: [k2]
---
apiVersion: configuration.konghq.com/v1
kind: KongConsumer
metadata: {name: fine, namespace: kong, annotations: {kubernetes.io/ingress.class: kong}}
username: fine
`);
  await kubectl('apply', '-f', join(dir, 'all.yaml'));

  // The refused plugin is left out; the route and the other plugin still work.
  const ok = await eventually('the Ingress route without the broken plugin', async () => {
    const r = await fetch(`${gw.proxy}/echo`);
    await r.arrayBuffer();
    return r.status === 200 && r.headers.get('x-from-plugin') === 'yes' ? r : undefined;
  });
  assert.equal(ok.headers.get('x-ratelimit-limit-minute'), null);
  const events = await eventually('Events on the broken objects', async () => {
    const { stdout } = await kubectl('get', 'events', '-n', 'kong', '-o', 'json');
    const items = (JSON.parse(stdout) as { items: { involvedObject: { kind: string; name: string }; reason: string; message: string }[] }).items;
    const plugin = items.find((e) => e.involvedObject.name === 'broken-limit' && e.reason === 'KongConfigurationApplyFailed');
    const consumer = items.find((e) => e.involvedObject.kind === 'KongConsumer' && e.reason === 'KongConfigurationTranslationFailed');
    return plugin && consumer ? { plugin, consumer } : undefined;
  });
  assert.match(events.plugin.message, /policy/);
  assert.match(events.consumer.message, /conflicting credentials|conflict/);
  const consumers = await (await fetch(`${gw.admin}/consumers`)).json() as { data: { username: string }[] };
  assert.ok(consumers.data.some((c) => c.username === 'fine'));

  // The API server restarts; a change made meanwhile still arrives.
  await api.restart({ downMs: 300 });
  await kubectl('annotate', '-n', 'kong', 'ingress', 'echo', 'konghq.com/plugins=add-header', '--overwrite');
  writeFileSync(join(dir, 'p.yaml'), `
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: add-header, namespace: kong}
plugin: response-transformer
config: {add: {headers: ["x-from-plugin:after-restart"]}}
`);
  await kubectl('apply', '-f', join(dir, 'p.yaml'));
  await eventually('the change made across the API restart', async () => {
    const r = await fetch(`${gw.proxy}/echo`);
    await r.arrayBuffer();
    return r.headers.get('x-from-plugin') === 'after-restart' ? true : undefined;
  });

  // The gateway restarts empty on the same ports: the controller pushes the config again.
  const adminPort = new URL(gw.admin).port;
  const proxyPort = gw.proxyPort;
  const statusPort = new URL(gw.status).port;
  await gw.stop();
  gw = await startGateway({ waitReady: false, ports: { proxy: proxyPort, admin: Number(adminPort), status: Number(statusPort) } });
  await eventually('the restarted gateway to get its config back', async () => {
    const r = await fetch(`http://127.0.0.1:${proxyPort}/echo`);
    await r.arrayBuffer();
    return r.status === 200 ? true : undefined;
  }, 30_000);
});
