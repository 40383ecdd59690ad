/**
 * @module controller/crds/cel
 * The CRDs' CEL rules as TypeScript, for objects that never pass through an API server (manifest
 * files, `turnpike run|translate`) and for tests. Each rule sits on a schema node; a rule is
 * evaluated when its node is present, a transition rule (one that reads `oldSelf`) only when an
 * old object is given and has the node too — the API server's semantics. Messages are Kong's.
 */
import type { CelRule, CelViolation, CrdDefinition } from './common.ts';
import { KongClusterPluginCrd, KongPluginCrd } from './kong-plugin.ts';
import { KongConsumerCrd } from './kong-consumer.ts';
import { KongUpstreamPolicyCrd } from './kong-upstream-policy.ts';

function at(root: unknown, path: string): unknown {
  if (path === '') return root;
  let node = root;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node ?? undefined;
}

/** Every CEL rule of `def` that `self` (updated from `oldSelf`, when given) breaks. */
export function celViolations(def: CrdDefinition, self: unknown, oldSelf?: unknown): CelViolation[] {
  const out: CelViolation[] = [];
  for (const group of def.rules) {
    const node = at(self, group.path);
    if (node === undefined) continue;
    const oldNode = oldSelf === undefined ? undefined : at(oldSelf, group.path);
    for (const rule of group.rules as readonly CelRule<unknown>[]) {
      if (rule.transition && oldNode === undefined) continue;
      if (!rule.check(node, oldNode)) out.push({ path: group.path, message: rule.message, rule: rule.rule });
    }
  }
  return out;
}

const messages = (def: CrdDefinition) => (self: unknown, oldSelf?: unknown): string[] =>
  celViolations(def, self, oldSelf).map((v) => v.message);

/** KongPlugin's rules: the messages of those `self` breaks (`oldSelf` for the update-only ones). */
export const checkKongPlugin = messages(KongPluginCrd);
/** KongClusterPlugin's rules (the same as KongPlugin's). */
export const checkKongClusterPlugin = messages(KongClusterPluginCrd);
/** KongConsumer's rules, including those on spec.controlPlaneRef and spec.tags. */
export const checkKongConsumer = messages(KongConsumerCrd);
/** KongUpstreamPolicy's rules. */
export const checkKongUpstreamPolicy = messages(KongUpstreamPolicyCrd);
