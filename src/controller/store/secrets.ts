/**
 * @module controller/store/secrets
 * KIC's memory rule for Secrets: a cluster can hold thousands of large Secrets (Helm releases,
 * service-account tokens) that the controller never needs. A Secret is kept only if it is labelled
 * `konghq.com/credential: <type>` or `konghq.com/ca-cert: "true"`, or is referenced by another watched
 * object: a KongConsumer credential, a KongPlugin/KongClusterPlugin `configFrom`/`configPatches`, an
 * Ingress `spec.tls[].secretName`, a Gateway listener certificateRef, or a Service's
 * `konghq.com/client-cert` / `konghq.com/ca-certificates-secrets` annotation. The caller applies it.
 */

import { splitApiVersion, type K8sObject } from './objects.ts';

/** CREDENTIAL_LABEL is the label that marks a Secret as a Kong consumer credential. */
export const CREDENTIAL_LABEL = 'konghq.com/credential';
/** CA_CERT_LABEL marks a Secret holding a CA certificate (`"true"`). */
export const CA_CERT_LABEL = 'konghq.com/ca-cert';

const SUPPORTED_CREDENTIAL_LABELS: ReadonlySet<string> = new Set([
  'basic-auth', 'hmac-auth', 'jwt', 'key-auth', 'oauth2', 'acl', 'mtls-auth', 'konnect',
  'keyauth_credential', 'basicauth_credential', 'hmacauth_credential', 'jwt_secret',
]);

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function csv(v: string | undefined): string[] {
  if (!v) return [];
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** isSecretLabelledForKong says whether a Secret is kept for its labels alone. */
export function isSecretLabelledForKong(secret: K8sObject): boolean {
  const labels = secret.metadata.labels ?? {};
  const cred = labels[CREDENTIAL_LABEL];
  if (cred !== undefined && SUPPORTED_CREDENTIAL_LABELS.has(cred)) return true;
  return labels[CA_CERT_LABEL] === 'true';
}

/** secretReferences lists the `namespace/name` keys of the Secrets one object refers to. */
export function secretReferences(obj: K8sObject): string[] {
  const ns = obj.metadata.namespace ?? '';
  const out: string[] = [];
  const { group } = splitApiVersion(obj.apiVersion);
  switch (obj.kind) {
    case 'KongConsumer':
      if (group !== 'configuration.konghq.com') break;
      for (const c of arr(obj['credentials'])) {
        const name = str(c);
        if (name) out.push(`${ns}/${name}`);
      }
      break;
    case 'KongPlugin':
    case 'KongClusterPlugin': {
      if (group !== 'configuration.konghq.com') break;
      const clusterScoped = obj.kind === 'KongClusterPlugin';
      const pushRef = (ref: Record<string, unknown> | undefined) => {
        if (!ref) return;
        const name = str(ref['name']);
        const refNs = clusterScoped ? str(ref['namespace']) : ns;
        if (name && refNs) out.push(`${refNs}/${name}`);
      };
      pushRef(rec(rec(obj['configFrom'])?.['secretKeyRef']));
      for (const p of arr(obj['configPatches'])) pushRef(rec(rec(rec(p)?.['valueFrom'])?.['secretKeyRef']));
      break;
    }
    case 'Ingress':
      if (group !== 'networking.k8s.io') break;
      for (const t of arr(rec(obj['spec'])?.['tls'])) {
        const name = str(rec(t)?.['secretName']);
        if (name) out.push(`${ns}/${name}`);
      }
      break;
    case 'Gateway':
      if (group !== 'gateway.networking.k8s.io') break;
      for (const l of arr(rec(obj['spec'])?.['listeners'])) {
        for (const r of arr(rec(rec(l)?.['tls'])?.['certificateRefs'])) {
          const ref = rec(r);
          const name = str(ref?.['name']);
          const kind = str(ref?.['kind']) ?? 'Secret';
          if (name && kind === 'Secret') out.push(`${str(ref?.['namespace']) ?? ns}/${name}`);
        }
      }
      break;
    case 'Service': {
      if (group !== '') break;
      const anns = obj.metadata.annotations ?? {};
      const clientCert = str(anns['konghq.com/client-cert']);
      if (clientCert) out.push(`${ns}/${clientCert}`);
      for (const name of csv(anns['konghq.com/ca-certificates-secrets'])) out.push(`${ns}/${name}`);
      break;
    }
    default:
      break;
  }
  return out;
}

/** referencedSecretKeys collects the `namespace/name` of every Secret referenced by `objects`. */
export function referencedSecretKeys(objects: Iterable<K8sObject>): Set<string> {
  const keys = new Set<string>();
  for (const obj of objects) for (const k of secretReferences(obj)) keys.add(k);
  return keys;
}

/** isSecret says whether an object is a core v1 Secret. */
export function isSecret(obj: K8sObject): boolean {
  return obj.kind === 'Secret' && obj.apiVersion === 'v1';
}

/** shouldKeepSecret applies the memory rule to one Secret given the set of referenced keys. */
export function shouldKeepSecret(secret: K8sObject, referenced: ReadonlySet<string>): boolean {
  if (isSecretLabelledForKong(secret)) return true;
  return referenced.has(`${secret.metadata.namespace ?? ''}/${secret.metadata.name}`);
}

/** filterSecrets drops the Secrets the controller has no use for; other objects pass through. */
export function filterSecrets(objects: readonly K8sObject[]): K8sObject[] {
  const referenced = referencedSecretKeys(objects);
  return objects.filter((o) => !isSecret(o) || shouldKeepSecret(o, referenced));
}
