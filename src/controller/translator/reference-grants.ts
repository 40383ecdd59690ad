/**
 * @module controller/translator/reference-grants
 * Gateway API ReferenceGrant checks, used for cross-namespace HTTPRoute backends, Gateway
 * certificateRefs and `ns:plugin` references in `konghq.com/plugins`. A grant lives in the target
 * namespace and allows `from {group, kind, namespace}` to reach `to {group, kind, name?}`.
 */

import type { Store } from '../store/store.ts';
import { GK, splitApiVersion, type K8sObject } from '../store/objects.ts';
import { arr, rec, str } from './fields.ts';

/** GrantFrom describes the referring object. */
export interface GrantFrom {
  group: string;
  kind: string;
  namespace: string;
}

/** GrantTarget describes the referenced object. */
export interface GrantTarget {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/** grantFromObject describes `obj` as the "from" side of a grant. */
export function grantFromObject(obj: K8sObject): GrantFrom {
  return { group: splitApiVersion(obj.apiVersion).group, kind: obj.kind, namespace: obj.metadata.namespace ?? '' };
}

/** isReferenceGranted says whether any ReferenceGrant in the target namespace allows the reference. */
export function isReferenceGranted(store: Store, from: GrantFrom, to: GrantTarget): boolean {
  for (const grant of store.list(GK.ReferenceGrant)) {
    if (grant.metadata.namespace !== to.namespace) continue;
    const spec = rec(grant['spec']);
    const fromMatches = arr(spec?.['from']).some((f) => {
      const r = rec(f);
      return (str(r?.['group'], true) ?? '') === from.group && str(r?.['kind']) === from.kind && str(r?.['namespace']) === from.namespace;
    });
    if (!fromMatches) continue;
    const toMatches = arr(spec?.['to']).some((t) => {
      const r = rec(t);
      const name = str(r?.['name']);
      return (str(r?.['group'], true) ?? '') === to.group && str(r?.['kind']) === to.kind && (name === undefined || name === to.name);
    });
    if (toMatches) return true;
  }
  return false;
}
