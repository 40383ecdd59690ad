/**
 * @module controller/translator/certificates
 * TLS Secrets → Kong certificates with nested SNIs. Sources: Ingress `spec.tls[]` (hosts → SNIs),
 * Service `konghq.com/client-cert` (no SNIs), Gateway listener certificateRefs (listener hostname or
 * `*`). The certificate id is the Secret's UID; identical key pairs are merged (the oldest Secret
 * names the certificate) and each SNI is used once.
 */

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import type { FailureCollector } from './failures.ts';
import { arr, compareStrings, decodeBase64, rec, str } from './fields.ts';
import { isControlledGatewayClass } from './gateway.ts';
import type { SecretSnis } from './model.ts';
import { isReferenceGranted } from './reference-grants.ts';
import { tagsFor } from './tags.ts';

/** keyPairFromSecret reads and checks `tls.crt`/`tls.key`; returns an error text on failure. */
export function keyPairFromSecret(secret: K8sObject): { cert: string; key: string } | string {
  const data = rec(secret['data']) ?? {};
  const cert = decodeBase64(data['tls.crt'])?.trim();
  const key = decodeBase64(data['tls.key'])?.trim();
  const id = `${secret.metadata.namespace ?? ''}/${secret.metadata.name}`;
  if (cert === undefined || key === undefined) return `no keypair could be found in secret '${id}'`;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return `parsing TLS key-pair in secret '${id}': private key does not match public key`;
  } catch (err) {
    return `parsing TLS key-pair in secret '${id}': ${(err as Error).message}`;
  }
  return { cert, key };
}

interface CertCandidate {
  secret: K8sObject;
  cert: string;
  key: string;
  snis: string[];
}

function gatewayCertificates(store: Store, controllerName: string): CertCandidate[] {
  const out: CertCandidate[] = [];
  for (const gateway of store.list(GK.Gateway)) {
    const gwc = store.get(GK.GatewayClass, undefined, str(rec(gateway['spec'])?.['gatewayClassName']) ?? '');
    if (!isControlledGatewayClass(gwc, controllerName)) continue;
    const gwNs = gateway.metadata.namespace ?? 'default';
    for (const l of arr(rec(gateway['spec'])?.['listeners'])) {
      const listener = rec(l) ?? {};
      const refs = arr(rec(listener['tls'])?.['certificateRefs']);
      if (refs.length !== 1) continue;
      const ref = rec(refs[0]) ?? {};
      if ((str(ref['kind']) ?? 'Secret') !== 'Secret') continue;
      const name = str(ref['name']) ?? '';
      const ns = str(ref['namespace']) ?? gwNs;
      if (ns !== gwNs && !isReferenceGranted(store, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: gwNs }, { group: '', kind: 'Secret', namespace: ns, name })) continue;
      const secret = store.get(GK.Secret, ns, name);
      if (!secret) continue;
      const pair = keyPairFromSecret(secret);
      if (typeof pair === 'string') continue;
      out.push({ secret, ...pair, snis: [str(listener['hostname']) ?? '*'] });
    }
  }
  return out;
}

/** translateCertificates builds the `certificates` array. */
export function translateCertificates(store: Store, snis: SecretSnis, controllerName: string, failures: FailureCollector): Record<string, unknown>[] {
  const candidates: CertCandidate[] = [];
  for (const key of [...snis.entries.keys()].sort(compareStrings)) {
    const entry = snis.entries.get(key)!;
    const [ns, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const secret = store.get(GK.Secret, ns, name);
    if (!secret) {
      failures.push(`Failed to fetch the secret (${key})`, ...entry.parents);
      continue;
    }
    const pair = keyPairFromSecret(secret);
    if (typeof pair === 'string') {
      failures.push('failed to construct certificate from secret', ...entry.parents, secret);
      continue;
    }
    candidates.push({ secret, ...pair, snis: entry.hosts });
  }
  candidates.push(...gatewayCertificates(store, controllerName));

  const merged = new Map<string, CertCandidate>();
  const seenSnis = new Set<string>();
  const order = [...candidates].sort((a, b) => compareStrings(a.secret.metadata.creationTimestamp ?? '', b.secret.metadata.creationTimestamp ?? ''));
  for (const c of order) {
    const id = `${c.cert}\u0000${c.key}`;
    let m = merged.get(id);
    if (!m) {
      m = { ...c, snis: [] };
      merged.set(id, m);
    }
    for (const s of c.snis) {
      if (seenSnis.has(s)) continue;
      seenSnis.add(s);
      m.snis.push(s);
    }
  }
  return [...merged.values()].map((c) => {
    const entity: Record<string, unknown> = { cert: c.cert, key: c.key, tags: tagsFor(c.secret) };
    if (c.secret.metadata.uid) entity['id'] = c.secret.metadata.uid;
    if (c.snis.length > 0) entity['snis'] = c.snis.map((name) => ({ name }));
    return entity;
  });
}
