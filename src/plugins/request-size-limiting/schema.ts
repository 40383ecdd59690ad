/**
 * @module plugins/request-size-limiting/schema
 * Kong's request-size-limiting config: the largest body allowed, in megabytes (default),
 * kilobytes or bytes, and whether a Content-Length header is required.
 */
import { Type, type Static } from '@sinclair/typebox';

export const SIZE_UNITS = ['megabytes', 'kilobytes', 'bytes'] as const;
export const UNIT_FACTOR: Record<(typeof SIZE_UNITS)[number], number> = { bytes: 1, kilobytes: 1024, megabytes: 1048576 };

export const RequestSizeLimitingSchema = Type.Object({
  allowed_payload_size: Type.Union([Type.Integer(), Type.Null()], { default: 128 }),
  size_unit: Type.String({ enum: [...SIZE_UNITS], default: 'megabytes' }),
  require_content_length: Type.Boolean({ default: false }),
});

export type RequestSizeLimitingConfig = Static<typeof RequestSizeLimitingSchema>;
