/**
 * @module plugins/correlation-id/schema
 * Kong's correlation-id config: the header to read/set, how to generate a value, and whether to
 * send it back to the client.
 */
import { Type, type Static } from '@sinclair/typebox';

export const GENERATORS = ['uuid', 'uuid#counter', 'tracker'] as const;

export const CorrelationIdSchema = Type.Object({
  header_name: Type.String({ default: 'Kong-Request-ID' }),
  generator: Type.String({ enum: [...GENERATORS], default: 'uuid#counter' }),
  echo_downstream: Type.Boolean({ default: false }),
});

export type CorrelationIdConfig = Static<typeof CorrelationIdSchema>;
export type GeneratorName = (typeof GENERATORS)[number];
