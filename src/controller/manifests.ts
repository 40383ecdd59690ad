/**
 * @module controller/manifests
 * Reads Kubernetes manifests from files, folders and stdin into plain objects, so the controller can
 * translate without a cluster (`turnpike translate`, the local run mode, golden tests). It does the
 * small part of the API server's work that changes what the translator sees: Secrets' `stringData`
 * is folded into base64 `data`, namespaced objects without a namespace land in `default`, and
 * `*List` objects are flattened. Broken documents are reported as problems, never thrown.
 */

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isClusterScoped, isK8sObject, type K8sObject } from './store/objects.ts';

export type { K8sObject } from './store/objects.ts';

/** ManifestLoadResult is what `loadManifests` found: usable objects and human-readable problems. */
export interface ManifestLoadResult {
  objects: K8sObject[];
  problems: string[];
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function listManifestFiles(dir: string, problems: string[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    problems.push(`${dir}: ${(err as Error).message}`);
    return [];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await listManifestFiles(full, problems)));
    else if (e.isFile() && MANIFEST_EXTENSIONS.some((ext) => e.name.endsWith(ext))) files.push(full);
  }
  return files;
}

/**
 * normalizeObject applies API-server defaults that matter to translation: Secret `stringData` is
 * merged into base64 `data` (stringData wins), and namespaced kinds get namespace `default`.
 */
export function normalizeObject(obj: K8sObject): K8sObject {
  const out: K8sObject = { ...obj, metadata: { ...obj.metadata } };
  if (!isClusterScoped(out.kind) && (typeof out.metadata.namespace !== 'string' || out.metadata.namespace === '')) {
    out.metadata.namespace = 'default';
  }
  if (isClusterScoped(out.kind)) delete out.metadata.namespace;
  // The API server only stores string label/annotation values; YAML `true` or `10` become strings here.
  for (const key of ['labels', 'annotations'] as const) {
    const raw = out.metadata[key];
    if (raw === undefined) continue;
    const clean: Record<string, string> = {};
    if (raw !== null && typeof raw === 'object') {
      for (const [k, v] of Object.entries(raw)) if (v !== null && v !== undefined) clean[k] = typeof v === 'string' ? v : String(v);
    }
    out.metadata[key] = clean;
  }
  if (out.kind === 'Secret' && out.apiVersion === 'v1') {
    const data: Record<string, string> = {};
    const rawData = out['data'];
    if (rawData && typeof rawData === 'object') {
      for (const [k, v] of Object.entries(rawData as Record<string, unknown>)) {
        if (typeof v === 'string') data[k] = v.replace(/\s+/g, '');
      }
    }
    const stringData = out['stringData'];
    if (stringData && typeof stringData === 'object') {
      for (const [k, v] of Object.entries(stringData as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        data[k] = Buffer.from(typeof v === 'string' ? v : String(v), 'utf8').toString('base64');
      }
    }
    delete out['stringData'];
    out['data'] = data;
  }
  if (out.kind === 'HTTPRoute' && out.apiVersion.startsWith('gateway.networking.k8s.io/')) applyHTTPRouteDefaults(out);
  return out;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * applyHTTPRouteDefaults fills the defaults the Gateway API CRD schema gives an HTTPRoute on
 * admission: a rule without matches matches PathPrefix `/`, path type PathPrefix, header/query
 * match type Exact, backendRef group `""`, kind `Service`, weight 1, parentRef group/kind Gateway.
 */
function applyHTTPRouteDefaults(route: K8sObject): void {
  const spec = asRecord(route['spec']);
  if (!spec) return;
  const copy: Record<string, unknown> = { ...spec };
  route['spec'] = copy;
  if (Array.isArray(copy['parentRefs'])) {
    copy['parentRefs'] = copy['parentRefs'].map((p) => {
      const r = asRecord(p);
      return r ? { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...r } : p;
    });
  }
  if (!Array.isArray(copy['rules'])) return;
  copy['rules'] = copy['rules'].map((rule) => {
    const r = asRecord(rule);
    if (!r) return rule;
    const out: Record<string, unknown> = { ...r };
    const matches = Array.isArray(out['matches']) ? out['matches'] : [{ path: { type: 'PathPrefix', value: '/' } }];
    out['matches'] = matches.map((m) => {
      const mr = asRecord(m);
      if (!mr) return m;
      const mo: Record<string, unknown> = { ...mr };
      const path = asRecord(mo['path']);
      if (path) mo['path'] = { type: 'PathPrefix', value: '/', ...path };
      for (const key of ['headers', 'queryParams']) {
        if (Array.isArray(mo[key])) mo[key] = (mo[key] as unknown[]).map((h) => (asRecord(h) ? { type: 'Exact', ...asRecord(h) } : h));
      }
      return mo;
    });
    if (Array.isArray(out['backendRefs'])) {
      out['backendRefs'] = out['backendRefs'].map((b) => {
        const br = asRecord(b);
        return br ? { group: '', kind: 'Service', weight: 1, ...br } : b;
      });
    }
    return out;
  });
}

/** parseManifestText splits one file's text into objects; `source` names it in problems. */
export function parseManifestText(text: string, source: string): ManifestLoadResult {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  let docs: unknown[];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      docs = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      docs = [];
    }
    if (docs.length > 0) {
      collect(docs, source, objects, problems);
      return { objects, problems };
    }
  }
  const yamlDocs = parseAllDocuments(text);
  const values: unknown[] = [];
  const list = Array.isArray(yamlDocs) ? yamlDocs : [yamlDocs];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push(`${source}: document ${i + 1}: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    values.push(doc.toJS({ maxAliasCount: 1000 }));
  });
  collect(values, source, objects, problems);
  return { objects, problems };
}

function collect(values: unknown[], source: string, objects: K8sObject[], problems: string[]): void {
  values.forEach((value, i) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      if (typeof v['kind'] === 'string' && v['kind'].endsWith('List') && Array.isArray(v['items'])) {
        collect(v['items'] as unknown[], `${source}: ${v['kind']}`, objects, problems);
        return;
      }
    }
    if (!isK8sObject(value)) {
      problems.push(`${source}: document ${i + 1}: not a Kubernetes object (needs apiVersion, kind and metadata.name)`);
      return;
    }
    objects.push(normalizeObject(value));
  });
}

/**
 * loadManifests reads every path in order: a file, a folder (recursively, `*.yaml`, `*.yml`,
 * `*.json`, sorted by name) or `-` for stdin. It never throws for bad input; unreadable files and
 * unparsable documents are listed in `problems`.
 */
export async function loadManifests(paths: string[]): Promise<ManifestLoadResult> {
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    let files: string[];
    if (path === '-') {
      const text = await readStdin();
      const r = parseManifestText(text, '<stdin>');
      objects.push(...r.objects);
      problems.push(...r.problems);
      continue;
    }
    try {
      const st = await stat(path);
      files = st.isDirectory() ? await listManifestFiles(path, problems) : [path];
    } catch (err) {
      problems.push(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
        continue;
      }
      const r = parseManifestText(text, file);
      objects.push(...r.objects);
      problems.push(...r.problems);
    }
  }
  return { objects, problems };
}
