/**
 * @module bench/translate
 * Translator throughput at cluster scale: 5,000 Ingresses + 5,000 Services (+ one EndpointSlice
 * each, 3 ready pods) + 10,000 KongConsumers with key-auth Secrets, plus a KongPlugin attached to
 * every Service. Prints build, store and translate times (best and median of several runs) and
 * heap use. Run: `node --import tsx bench/translate.bench.ts [services] [consumers] [runs]`.
 */

import { ObjectStore, type K8sObject } from '../src/controller/store/index.ts';
import { translate } from '../src/controller/translator/index.ts';

const services = Number(process.argv[2] ?? 5000);
const consumers = Number(process.argv[3] ?? 10000);
const runs = Number(process.argv[4] ?? 5);

function build(): K8sObject[] {
  const objects: K8sObject[] = [];
  objects.push({ apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'rl', namespace: 'bench' }, plugin: 'rate-limiting', config: { minute: 100 } });
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    objects.push({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name, namespace: 'bench', uid: `uid-svc-${i}`, annotations: { 'konghq.com/plugins': 'rl' } },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-abc`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [0, 1, 2].map((p) => ({ addresses: [`10.${(i >> 8) & 255}.${i & 255}.${p + 1}`], conditions: { ready: true } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    objects.push({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
      metadata: { name: `ing-${i}`, namespace: 'bench', uid: `uid-ing-${i}`, annotations: { 'konghq.com/strip-path': 'true' } },
      spec: {
        ingressClassName: 'kong',
        rules: [{ host: `h${i}.example.com`, http: { paths: [
          { path: '/api', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } },
          { path: '/exact', pathType: 'Exact', backend: { service: { name, port: { number: 80 } } } },
        ] } }],
      },
    });
  }
  for (let i = 0; i < consumers; i++) {
    objects.push({
      apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer',
      metadata: { name: `c-${i}`, namespace: 'bench', uid: `uid-c-${i}`, annotations: { 'kubernetes.io/ingress.class': 'kong' } },
      username: `user-${i}`, credentials: [`c-${i}-key`],
    });
    objects.push({
      apiVersion: 'v1', kind: 'Secret',
      metadata: { name: `c-${i}-key`, namespace: 'bench', labels: { 'konghq.com/credential': 'key-auth' } },
      data: { key: Buffer.from(`key-${i}`).toString('base64') },
    });
  }
  return objects;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const t0 = performance.now();
const objects = build();
const t1 = performance.now();
const store = new ObjectStore(objects);
const t2 = performance.now();
const heapBefore = process.memoryUsage().heapUsed;
const times: number[] = [];
let result = translate(store);
for (let i = 0; i < runs; i++) {
  const s = performance.now();
  result = translate(store);
  times.push(performance.now() - s);
}
const heapAfter = process.memoryUsage().heapUsed;
times.sort((a, b) => a - b);
const c = result.config;
console.log(`objects: ${objects.length} (services ${services}, ingresses ${services}, consumers ${consumers})`);
console.log(`build ${(t1 - t0).toFixed(0)} ms, store ${(t2 - t1).toFixed(0)} ms`);
console.log(`translate: first+${runs} runs, best ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms`);
console.log(`output: ${c.services?.length ?? 0} services, ${c.upstreams?.length ?? 0} upstreams, ${c.consumers?.length ?? 0} consumers, ${c.plugins?.length ?? 0} plugins, ${result.failures.length} failures`);
console.log(`heap used: ${mb(heapBefore)} before translate, ${mb(heapAfter)} after (rss ${mb(process.memoryUsage().rss)})`);
