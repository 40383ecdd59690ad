/**
 * @module config/schema/typedefs
 * Shared field types of the declarative input format (Kong's typedefs.lua as TypeBox). Each is a
 * plain JSON Schema; Kong's custom validators ride on the `kongCheck` keyword, which the
 * validator's ajv instance knows. Defaults are not declared here: normalization fills them.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FieldCheckName } from './checks.ts';

const check = (name: FieldCheckName) => ({ kongCheck: name });

export const Uuid = Type.String({ format: 'uuid' });
export const Port = Type.Integer({ minimum: 0, maximum: 65535 });
export const Host = Type.String(check('host'));
export const HostWithOptionalPort = Type.String(check('host_with_optional_port'));
export const Sni = Type.String(check('wildcard_host'));
export const Path = Type.String(check('path'));
export const RouterPath = Type.String(check('router_path'));
export const RouteHost = Type.String(check('route_host'));
export const Utf8Name = Type.String({ minLength: 1, ...check('utf8_name') });
export const Name = Type.String({ minLength: 1, ...check('name') });
export const Tag = Type.String({ minLength: 1, ...check('tag') });
export const Tags = Type.Array(Tag);
/** Kong's nonzero_timeout: integer ms, 1 … 2^31-2. */
export const Timeout = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 2 });
export const HttpMethod = Type.String({ pattern: '^[A-Z]+$' });
export const HeaderName = Type.String(check('header_name'));
export const IpOrCidr = Type.String(check('ip_or_cidr'));
export const Certificate = Type.String({ minLength: 1, ...check('certificate') });
export const PrivateKey = Type.String({ minLength: 1, ...check('key') });
export const Timestamp = Type.Number({ minimum: 0 });

export const SERVICE_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp'] as const;
export const ROUTE_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] as const;
export const HTTP_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'] as const;

/** A string enum; ajv's `enum` error maps to Kong's `expected one of: a, b`. */
export function OneOf<T extends string | number>(values: readonly T[]): TSchema {
  return typeof values[0] === 'number'
    ? Type.Integer({ enum: [...values] })
    : Type.String({ enum: [...values] });
}

/** A `{ip, port}` record of route sources/destinations. */
export const Endpoint = Type.Object({ ip: Type.Optional(IpOrCidr), port: Type.Optional(Port) }, { additionalProperties: false });

/**
 * A foreign key as written in the file: a name or id, or `{id}` / `{name}`. Its shape is checked
 * by the walker (ajv sees it as unknown) so the message is Kong's single `expected a string`.
 */
export const ForeignRef = Type.Unknown();

/** A nested child array; its items are validated by the walker with their own entity schema. */
export const NestedArray = Type.Array(Type.Unknown());

/** Fields every record in the file may carry and Kong ignores. */
export const Annotations = {
  _comment: Type.Optional(Type.String()),
  _ignore: Type.Optional(Type.Array(Type.Unknown())),
};
