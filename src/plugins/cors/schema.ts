/**
 * @module plugins/cors/schema
 * Kong's cors config. `origins` entries are `*`, plain origins or regexes; a regex that does not
 * compile is refused with Kong's message.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const CorsSchema = Type.Object({
  origins: nullable(Type.Array(Type.String())),
  headers: nullable(Type.Array(Type.String())),
  exposed_headers: nullable(Type.Array(Type.String())),
  methods: Type.Union([Type.Array(Type.String({ enum: [...CORS_METHODS] })), Type.Null()], { default: [...CORS_METHODS] }),
  max_age: nullable(Type.Number()),
  credentials: Type.Boolean({ default: false }),
  private_network: Type.Boolean({ default: false }),
  preflight_continue: Type.Boolean({ default: false }),
  allow_origin_absent: Type.Boolean({ default: true }),
});

export type CorsConfig = Static<typeof CorsSchema>;

/** Compiles a configured origin regex the way the handler uses it (see origin.ts). */
export function compileOriginRegex(entry: string): RegExp {
  let source = entry.endsWith('$') ? entry : `${entry}$`;
  if (source.startsWith('^')) source = source.slice(1);
  // Sticky = anchored at the start for every alternative, like PCRE's anchored flag.
  return new RegExp(source, 'y');
}

export function checkCors(config: CorsConfig): FieldErrors | null {
  const origins = config.origins ?? [];
  let failed = false;
  // Positions without an error hold `{}` (an empty error tree) so the list stays dense.
  const errors: (string | FieldErrors)[] = origins.map((entry) => {
    if (entry === '*') return {};
    try {
      compileOriginRegex(entry);
      return {};
    } catch {
      failed = true;
      return `'${entry}' is not a valid regex`;
    }
  });
  return failed ? { origins: errors } : null;
}
