/**
 * Renders deploy/all-in-one and deploy/controller-gateways with the real `kubectl kustomize` and
 * checks what comes out against the code it deploys: every flag and TURNPIKE_* variable is one the
 * CLI (`turnpike gateway|controller --help`) knows, probes hit the paths and ports the flags open,
 * the controller finds its gateways (loopback URL, or the headless admin Service by port name), the
 * RBAC is exactly what the controller uses (derived from WATCHED_KINDS, the status writer, Events and
 * the Lease), and every container runs as non-root on a read-only root filesystem with resources.
 * With `helm` on PATH the chart is also linted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { WATCHED_KINDS } from '../../src/controller/controller.ts';
import { KNOWN_KINDS } from '../../src/controller/k8s/index.ts';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };
interface EnvVar { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean } } }
interface Probe { httpGet?: { path: string; port: string | number } }
interface Container {
  name: string; image: string; args?: string[]; command?: string[]; env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe; livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
}

async function kustomize(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(root, 'deploy', dir)], { maxBuffer: 16 * 1024 * 1024 });
  const docs = parseAllDocuments(stdout);
  for (const d of docs) assert.deepEqual(d.errors, [], `${dir}: YAML errors`);
  return docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

/** The options and environment variables `turnpike <command> --help` lists. */
function cliOf(command: string): { flags: Set<string>; env: Set<string> } {
  const help = execFileSync(process.execPath, [join(root, 'bin', 'turnpike.js'), command, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  const flags = new Set([...help.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!));
  const env = new Set([...help.matchAll(/env:\s+([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!));
  assert.ok(flags.size > 5, `could not read the options of turnpike ${command}`);
  return { flags, env };
}
const CLI = { gateway: cliOf('gateway'), controller: cliOf('controller') };

/** `--name=value` / `--name value` / `--flag` → name → value ('' for a bare switch). */
function parseArgs(args: string[]): { command: string; flags: Map<string, string> } {
  const [command, ...rest] = args;
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    assert.ok(a.startsWith('--'), `unexpected positional argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
    else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) flags.set(a, rest[++i]!);
    else flags.set(a, '');
  }
  return { command: command!, flags };
}

/** Expands `$(VAR)` the way the kubelet does, from the container's env and the pod's fields. */
function expand(value: string, c: Container, pod: { namespace: string; name: string }): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
    const v = c.env?.find((e) => e.name === name);
    assert.ok(v, `$(${name}) is not defined in container ${c.name}`);
    if (v.value !== undefined) return v.value;
    if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') return pod.namespace;
    if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return pod.name;
    throw new Error(`$(${name}) has no value the test can resolve`);
  });
}

function portOf(listen: string): number {
  const m = /:(\d+)(?:\s|$)/.exec(listen.split(',')[0]!.trim());
  assert.ok(m, `no port in ${listen}`);
  return Number(m[1]);
}

function containerPort(c: Container, port: string | number): number {
  if (typeof port === 'number') return port;
  const p = c.ports?.find((x) => x.name === port);
  assert.ok(p, `container ${c.name} has no port named ${port}`);
  return p.containerPort;
}

const podTemplate = (d: Obj) => d.spec.template as { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean }; serviceAccountName?: string } };

/** Checks a container's command line against the CLI and returns it parsed. */
function checkCli(c: Container, pod: { namespace: string; name: string }): { command: 'gateway' | 'controller'; flags: Map<string, string> } {
  assert.equal(c.command, undefined, `${c.name}: the image's entrypoint is turnpike; only args are set`);
  const { command, flags } = parseArgs(c.args ?? []);
  assert.ok(command === 'gateway' || command === 'controller', `${c.name}: unknown command ${command}`);
  const cli = CLI[command];
  for (const f of flags.keys()) assert.ok(cli.flags.has(f), `${c.name}: turnpike ${command} has no ${f}`);
  for (const e of c.env ?? []) {
    if (e.name.startsWith('TURNPIKE_')) assert.ok(cli.env.has(e.name), `${c.name}: turnpike ${command} does not read ${e.name}`);
  }
  const resolved = new Map([...flags].map(([k, v]) => [k, expand(v, c, pod)]));
  return { command, flags: resolved };
}

function checkGatewayContainer(c: Container, flags: Map<string, string>): void {
  const status = flags.get('--status-listen');
  assert.ok(status, 'the gateway sets --status-listen');
  assert.match(status, /^0\.0\.0\.0:/, 'the status listener must be reachable by the kubelet');
  assert.equal(c.readinessProbe?.httpGet?.path, '/status/ready');
  assert.equal(containerPort(c, c.readinessProbe!.httpGet!.port), portOf(status));
  assert.ok(c.livenessProbe?.httpGet, 'gateway liveness probe');
  assert.equal(containerPort(c, c.livenessProbe!.httpGet!.port), portOf(status));
  assert.equal(containerPort(c, 'proxy'), portOf(flags.get('--proxy-listen') ?? '0.0.0.0:8000'));
}

function checkControllerContainer(c: Container, flags: Map<string, string>): void {
  const health = flags.get('--health-probe-listen') ?? '0.0.0.0:10254';
  assert.equal(portOf(health), 10254);
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(containerPort(c, c.readinessProbe!.httpGet!.port), 10254);
  assert.equal(containerPort(c, c.livenessProbe!.httpGet!.port), 10254);
  assert.ok(c.ports?.some((p) => p.containerPort === portOf(flags.get('--metrics-listen') ?? '0.0.0.0:10255')), 'metrics port declared');
  assert.ok(c.env?.some((e) => e.name === 'POD_NAMESPACE' && e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace'), 'POD_NAMESPACE from the downward API');
  assert.ok(c.env?.some((e) => e.name === 'POD_NAME' && e.valueFrom?.fieldRef?.fieldPath === 'metadata.name'), 'POD_NAME from the downward API');
}

function checkHardening(d: Obj): void {
  const t = podTemplate(d);
  assert.equal(t.spec.securityContext?.runAsNonRoot, true, `${d.metadata.name}: runAsNonRoot`);
  for (const c of t.spec.containers) {
    assert.equal(c.image, 'turnpike:latest');
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root filesystem`);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: capabilities dropped`);
    for (const r of ['cpu', 'memory']) {
      assert.ok(c.resources?.requests?.[r], `${c.name}: ${r} request`);
      assert.ok(c.resources?.limits?.[r], `${c.name}: ${r} limit`);
    }
  }
  const a = t.metadata.annotations ?? {};
  assert.equal(a['prometheus.io/scrape'], 'true', `${d.metadata.name}: scrape annotation`);
  assert.equal(a['prometheus.io/path'], '/metrics');
  assert.ok(t.spec.containers.some((c) => c.ports?.some((p) => String(p.containerPort) === a['prometheus.io/port'])), 'the scrape port is a container port');
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The RBAC the controller's code needs: (group, resource, verb) triples. */
function expectedRbac(): { cluster: Set<string>; lease: Set<string> } {
  const cluster = new Set<string>();
  for (const k of WATCHED_KINDS) for (const v of ['list', 'watch']) cluster.add(`${k.group}|${k.plural}|${v}`);
  cluster.add('|secrets|get');
  cluster.add('|events|create');
  cluster.add('|events|patch');
  const writer = readFileSync(join(root, 'src', 'controller', 'status', 'status-writer.ts'), 'utf8');
  const statusKinds = new Set([...writer.matchAll(/store\.(?:list|get)\('([A-Z][A-Za-z]*)\.([a-z0-9.-]+)'/g)].map((m) => `${m[1]}|${m[2]}`));
  assert.ok(statusKinds.size >= 3, 'status kinds read from the status writer');
  for (const key of statusKinds) {
    const [kind, group] = key.split('|');
    const spec = KNOWN_KINDS.find((k) => k.kind === kind && k.group === group);
    assert.ok(spec, `unknown kind ${key}`);
    cluster.add(`${spec.group}|${spec.plural}/status|patch`);
  }
  const lease = new Set(['get', 'create', 'update'].map((v) => `coordination.k8s.io|leases|${v}`));
  return { cluster, lease };
}

function triples(rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g}|${res}|${v}`);
  return out;
}

function checkRbac(objects: Obj[], controllerNs: string, serviceAccount: string): void {
  const want = expectedRbac();
  const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
  assert.equal(clusterRoles.length, 1);
  assert.deepEqual([...triples(clusterRoles[0]!.rules)].sort(), [...want.cluster].sort(), 'ClusterRole = what the controller uses');
  const roles = objects.filter((o) => o.kind === 'Role');
  assert.equal(roles.length, 1);
  assert.equal(roles[0]!.metadata.namespace, controllerNs, 'the Lease Role is in the controller namespace');
  assert.deepEqual([...triples(roles[0]!.rules)].sort(), [...want.lease].sort(), 'Role = the Lease');
  for (const [bindingKind, role] of [['ClusterRoleBinding', clusterRoles[0]!], ['RoleBinding', roles[0]!]] as const) {
    const b = objects.find((o) => o.kind === bindingKind)!;
    assert.equal(b.roleRef.name, role.metadata.name);
    assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: serviceAccount, namespace: controllerNs }]);
  }
  assert.ok(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === serviceAccount && o.metadata.namespace === controllerNs));
}

function checkCommon(objects: Obj[]): void {
  const crdFiles = readdirSync(join(root, 'deploy', 'crds')).filter((f) => f !== 'kustomization.yaml').length;
  assert.equal(objects.filter((o) => o.kind === 'CustomResourceDefinition').length, crdFiles, 'every CRD is included');
  const ns = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
  assert.deepEqual(ns, ['kong']);
  const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
  for (const o of objects) {
    if (clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
    else assert.equal(o.metadata.namespace, 'kong', `${o.kind} ${o.metadata.name} is in the kong namespace`);
  }
}

test('deploy/all-in-one renders: one pod, gateway and controller side by side', async () => {
  const objects = await kustomize('all-in-one');
  checkCommon(objects);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  assert.equal(deployments.length, 1);
  const d = deployments[0]!;
  assert.equal(d.spec.replicas, 1, 'no leader election: one replica');
  const t = podTemplate(d);
  assert.ok(selects(d.spec.selector.matchLabels, t.metadata.labels));
  assert.deepEqual(t.spec.containers.map((c) => c.name).sort(), ['controller', 'gateway']);
  checkHardening(d);
  const pod = { namespace: d.metadata.namespace!, name: `${d.metadata.name}-abc` };
  const gw = t.spec.containers.find((c) => c.name === 'gateway')!;
  const ctl = t.spec.containers.find((c) => c.name === 'controller')!;
  const g = checkCli(gw, pod);
  const c = checkCli(ctl, pod);
  assert.equal(g.command, 'gateway');
  assert.equal(c.command, 'controller');
  checkGatewayContainer(gw, g.flags);
  checkControllerContainer(ctl, c.flags);
  // The controller pushes to the gateway's Admin API over loopback, which the gateway binds.
  const adminListen = g.flags.get('--admin-listen') ?? '127.0.0.1:8001';
  assert.match(adminListen, /^127\.0\.0\.1:/, 'the Admin API stays inside the pod');
  assert.equal(c.flags.get('--gateway-admin-url'), `http://127.0.0.1:${portOf(adminListen)}`);
  assert.equal(c.flags.get('--gateway-admin-url'), 'http://127.0.0.1:8001');
  assert.equal(c.flags.has('--kong-admin-svc'), false);
  assert.equal(t.spec.serviceAccountName, 'turnpike');
  checkRbac(objects, 'kong', 'turnpike');
  // The proxy Service reaches the pod's proxy port.
  const proxy = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'turnpike-proxy')!;
  assert.ok(selects(proxy.spec.selector, t.metadata.labels));
  assert.equal(proxy.spec.ports[0].port, 80);
  assert.equal(containerPort(gw, proxy.spec.ports[0].targetPort), 8000);
  assert.ok(c.flags.get('--publish-service') === `${pod.namespace}/turnpike-proxy`);
});

test('deploy/controller-gateways renders: N gateways, discovery through the admin Service, leader election', async () => {
  const objects = await kustomize('controller-gateways');
  checkCommon(objects);
  const gwDeploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'turnpike-gateway')!;
  const ctlDeploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'turnpike-controller')!;
  assert.ok(gwDeploy && ctlDeploy);
  assert.ok(gwDeploy.spec.replicas >= 2, 'several gateway replicas');
  assert.ok(ctlDeploy.spec.replicas >= 2, 'a standby controller');
  checkHardening(gwDeploy);
  checkHardening(ctlDeploy);
  const gt = podTemplate(gwDeploy);
  const ct = podTemplate(ctlDeploy);
  for (const [dep, t] of [[gwDeploy, gt], [ctlDeploy, ct]] as const) assert.ok(selects(dep.spec.selector.matchLabels, t.metadata.labels));

  const gw = gt.spec.containers[0]!;
  const ctl = ct.spec.containers[0]!;
  assert.equal(gt.spec.containers.length, 1);
  assert.equal(ct.spec.containers.length, 1);
  const g = checkCli(gw, { namespace: 'kong', name: 'gw-0' });
  const c = checkCli(ctl, { namespace: 'kong', name: 'ctl-0' });
  assert.equal(g.command, 'gateway');
  assert.equal(c.command, 'controller');
  checkGatewayContainer(gw, g.flags);
  checkControllerContainer(ctl, c.flags);

  // Discovery: --kong-admin-svc names a headless Service over the gateway pods whose port name
  // is one the controller looks for and whose target is the port the Admin API listens on.
  const adminListen = g.flags.get('--admin-listen')!;
  assert.match(adminListen, /^0\.0\.0\.0:/, 'the Admin API listens on the pod IP');
  const [svcNs, svcName] = c.flags.get('--kong-admin-svc')!.split('/');
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === svcName && o.metadata.namespace === svcNs);
  assert.ok(svc, `--kong-admin-svc ${svcNs}/${svcName} exists`);
  assert.equal(svc.spec.clusterIP, 'None', 'headless');
  assert.equal(svc.spec.publishNotReadyAddresses, true, 'new (not yet ready) gateways are discovered');
  assert.ok(selects(svc.spec.selector, gt.metadata.labels), 'selects the gateway pods');
  assert.ok(!selects(svc.spec.selector, ct.metadata.labels), 'not the controller pods');
  const names = (c.flags.get('--kong-admin-svc-port-names') ?? 'admin,kong-admin,admin-tls,kong-admin-tls').split(',');
  const adminPort = (svc.spec.ports as { name: string; targetPort: string | number }[]).find((p) => names.includes(p.name));
  assert.equal(adminPort?.name, 'admin');
  assert.equal(containerPort(gw, adminPort!.targetPort), portOf(adminListen));

  // Leader election: on (discovery turns it on), Lease namespace from the pod.
  assert.equal(c.flags.has('--no-leader-election'), false);
  assert.equal(c.flags.has('--gateway-admin-url'), false);
  assert.equal(ct.spec.serviceAccountName, 'turnpike');
  checkRbac(objects, ctlDeploy.metadata.namespace!, 'turnpike');

  // The gateways get no API credentials; the admin token, when the Secret exists, is the same on both sides.
  assert.notEqual(gt.spec.serviceAccountName, 'turnpike');
  assert.equal((gt.spec as { automountServiceAccountToken?: boolean }).automountServiceAccountToken, false);
  const token = (x: Container) => x.env?.find((e) => e.name === 'TURNPIKE_ADMIN_TOKEN')?.valueFrom?.secretKeyRef;
  assert.deepEqual(token(gw), token(ctl));
  assert.equal(token(gw)?.optional, true);

  // Proxy Service and the NetworkPolicy guarding the Admin API.
  const proxy = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'turnpike-proxy')!;
  assert.ok(selects(proxy.spec.selector, gt.metadata.labels));
  assert.equal(containerPort(gw, proxy.spec.ports[0].targetPort), 8000);
  const np = objects.find((o) => o.kind === 'NetworkPolicy')!;
  assert.ok(selects(np.spec.podSelector.matchLabels, gt.metadata.labels));
  const adminRule = (np.spec.ingress as { from?: { podSelector: { matchLabels: Record<string, string> } }[]; ports: { port: string }[] }[])
    .find((r) => r.ports.some((p) => p.port === 'admin'))!;
  assert.ok(adminRule.from?.every((f) => selects(f.podSelector.matchLabels, ct.metadata.labels)), 'admin only from controller pods');
});

function hasHelm(): boolean {
  try { execFileSync('helm', ['version', '--short'], { stdio: 'ignore' }); return true; } catch { return false; }
}

if (hasHelm()) {
  test('helm lint deploy/helm/turnpike', async () => {
    await run('helm', ['lint', join(root, 'deploy', 'helm', 'turnpike')]);
    for (const topology of ['allInOne', 'controllerAndGateways']) {
      await run('helm', ['template', 't', join(root, 'deploy', 'helm', 'turnpike'), '--set', `topology=${topology}`]);
    }
  });
}
