/**
 * @module plugins/acl/schema
 * Kong's acl config (3.8+): `kong/plugins/acl/schema.lua`, with its entity checks
 * (`only_one_of` and `at_least_one_of` over allow/deny) as `checkAclConfig`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const Groups = Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()], { default: null });

export const AclSchema = Type.Object({
  allow: Groups,
  deny: Groups,
  hide_groups_header: Type.Boolean({ default: false }),
  always_use_authenticated_groups: Type.Boolean({ default: false }),
});

export type AclConfig = Static<typeof AclSchema>;

const FIELDS = "'config.allow', 'config.deny'";

/**
 * Kong runs both checks with unset fields as null: none set fails both, both set fails
 * `only_one_of`. An empty list counts as unset.
 */
export function checkAclConfig(config: AclConfig): FieldErrors | null {
  const set = (config.allow?.length ? 1 : 0) + (config.deny?.length ? 1 : 0);
  if (set === 1) return null;
  const errors = [`exactly one of these fields must be non-empty: ${FIELDS}`];
  if (set === 0) errors.push(`at least one of these fields must be non-empty: ${FIELDS}`);
  return { '@entity': errors };
}
