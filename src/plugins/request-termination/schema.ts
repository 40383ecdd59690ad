/**
 * @module plugins/request-termination/schema
 * Kong's request-termination config: a status (100–599, default 503) and either a message
 * (rendered as `{"message":…}`), or a raw body with its content type, or an echo of the request.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const RequestTerminationSchema = Type.Object({
  status_code: Type.Integer({ minimum: 100, maximum: 599, default: 503 }),
  message: nullable(Type.String()),
  content_type: nullable(Type.String()),
  body: nullable(Type.String()),
  echo: Type.Boolean({ default: false }),
  trigger: nullable(Type.String({ kongCheck: 'header_name' })),
});

export type RequestTerminationConfig = Static<typeof RequestTerminationSchema>;

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0;

/** Kong's record-level custom validator, same order and messages. */
export function checkRequestTermination(c: RequestTerminationConfig): FieldErrors | null {
  let message: string | null = null;
  if (present(c.message) && (present(c.content_type) || present(c.body))) message = 'message cannot be used with content_type or body';
  else if (present(c.content_type) && !present(c.body)) message = 'content_type requires a body';
  else if (c.echo && (present(c.content_type) || present(c.body))) message = 'echo cannot be used with content_type and body';
  // Kong reports this as the whole `config` field's error; the plugin API can only attach it as
  // an entity-level message of `config`.
  return message === null ? null : { '@entity': [message] };
}
