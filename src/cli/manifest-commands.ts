/**
 * @module cli/manifest-commands
 * `turnpike translate` (manifests -> declarative config on stdout) and `turnpike run` (a gateway
 * fed from manifest files on one machine, no cluster). Both go through the same store and
 * translator as the in-cluster controller.
 */
import { watch, writeFileSync, statSync, type FSWatcher } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { loadManifests } from '../controller/manifests.ts';
import { ObjectStore, filterSecrets } from '../controller/store/index.ts';
import { translate, formatFailure, type TranslateOptions } from '../controller/translator/index.ts';
import type { GatewayOptions } from '../gateway/supervisor.ts';
import { controllerReport } from '../dashboard/controller-report.ts';

export interface TranslateFlags {
  file: string[];
  output?: string;
  format: 'yaml' | 'json';
  ingressClass: string;
  backend?: string[];
}

/** `--backend ns/svc=HOST:PORT` -> the translator's backend map. */
export function parseBackends(values: readonly string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of values ?? []) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)=(.+:\d+)$/.exec(v.trim());
    if (!m) throw new Error(`invalid --backend '${v}': expected NAMESPACE/SERVICE=HOST:PORT`);
    map.set(`${m[1]}/${m[2]}`, m[3]!);
  }
  return map;
}

async function translatePaths(paths: string[], options: TranslateOptions) {
  const loaded = await loadManifests(paths);
  const store = new ObjectStore(filterSecrets(loaded.objects));
  const result = translate(store, options);
  return { ...result, problems: loaded.problems };
}

export async function translateCommand(flags: TranslateFlags): Promise<number> {
  const result = await translatePaths(flags.file, { ingressClass: flags.ingressClass, backends: parseBackends(flags.backend) });
  for (const p of result.problems) process.stderr.write(`${p}\n`);
  for (const f of result.failures) process.stderr.write(`${formatFailure(f)}\n`);
  const text = flags.format === 'json' ? `${JSON.stringify(result.config, null, 2)}\n` : toYaml(result.config);
  if (flags.output) writeFileSync(flags.output, text);
  else process.stdout.write(text);
  return result.problems.length > 0 ? 1 : 0;
}

export interface RunFlags { file: string[]; backend?: string[]; ingressClass: string; watch: boolean }

/** Runs a gateway from manifests and re-applies them when the files change. */
export async function runCommand(flags: RunFlags, gatewayOptions: Omit<GatewayOptions, 'initialConfig'>): Promise<import('../gateway/supervisor.ts').RunningGateway> {
  const options: TranslateOptions = { ingressClass: flags.ingressClass, backends: parseBackends(flags.backend) };
  const { startGateway } = await import('./gateway-command.ts');
  const gw = await startGateway(gatewayOptions);
  let lastBody = '';
  const applyOnce = async (): Promise<void> => {
    const result = await translatePaths(flags.file, options);
    for (const p of result.problems) process.stderr.write(`${p}\n`);
    for (const f of result.failures) process.stderr.write(`${formatFailure(f)}\n`);
    const body = JSON.stringify(result.config);
    if (body === lastBody) { gw.reportController(controllerReport('manifests', result, 'unchanged')); return; }
    const r = await gw.apply(body, 'manifests');
    gw.reportController(controllerReport('manifests', result, r.kind === 'applied' ? 'applied' : 'refused',
      r.kind === 'invalid' ? r.error.message : r.kind === 'applied' ? undefined : r.kind));
    if (r.kind === 'applied') {
      lastBody = body;
      const c = r.loaded.config;
      process.stdout.write(`applied manifests: ${c.services.length} services, ${c.routes.length} routes, ${c.consumers.length} consumers, ${c.plugins.length} plugins (hash ${r.loaded.hash})\n`);
    } else if (r.kind === 'invalid') {
      // Same as a gateway refusing a controller push: the last good config keeps serving.
      process.stderr.write(`the translated config was refused; the previous one keeps serving:\n${JSON.stringify(r.error, null, 2)}\n`);
    } else {
      process.stderr.write(`config not applied: ${r.kind}\n`);
    }
  };
  await applyOnce();
  if (!flags.watch) return gw;
  let timer: NodeJS.Timeout | null = null;
  let running = Promise.resolve();
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { running = running.then(applyOnce, applyOnce); }, 150);
  };
  const watchers: FSWatcher[] = [];
  for (const p of flags.file) {
    if (p === '-') continue;
    try {
      watchers.push(watch(p, { recursive: statSync(p).isDirectory() }, schedule));
    } catch (err) {
      process.stderr.write(`cannot watch ${p}: ${(err as Error).message}\n`);
    }
  }
  return gw;
}
