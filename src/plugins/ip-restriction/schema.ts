/**
 * @module plugins/ip-restriction/schema
 * Kong's ip-restriction config: allow and/or deny lists of IPs and CIDR blocks (at least one
 * non-empty), and an optional status and message for refused clients.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const IpOrCidr = Type.String({ kongCheck: 'ip_or_cidr' });

export const IpRestrictionSchema = Type.Object({
  allow: nullable(Type.Array(IpOrCidr)),
  deny: nullable(Type.Array(IpOrCidr)),
  status: nullable(Type.Number()),
  message: nullable(Type.String()),
});

export type IpRestrictionConfig = Static<typeof IpRestrictionSchema>;

export function checkIpRestriction(c: IpRestrictionConfig): FieldErrors | null {
  if ((c.allow?.length ?? 0) === 0 && (c.deny?.length ?? 0) === 0) {
    return { '@entity': ["at least one of these fields must be non-empty: 'config.allow', 'config.deny'"] };
  }
  return null;
}
