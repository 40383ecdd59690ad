/**
 * @module plugins/file-log/schema
 * Kong's file-log config: `path` (required, a plausible file name), `reopen` and
 * `custom_fields_by_lua` (see log-entry.ts for what Turnpike makes of Lua).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

/** Kong's typedefs.lua_code: a map of field name -> Lua chunk. */
export const LuaCode = Type.Optional(Type.Union([
  Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 })),
  Type.Null(),
]));

export const FileLogSchema = Type.Object({
  path: Type.String(),
  reopen: Type.Boolean({ default: false }),
  custom_fields_by_lua: LuaCode,
});

export type FileLogConfig = Static<typeof FileLogSchema>;

/** Kong's `match` for path: no `*`, `&`, `%` or backquote, no blank at either end. */
const VALID_FILENAME = /^[^\s*&%`][^*&%`]*[^\s*&%`]$/;

export function checkFileLog(config: FileLogConfig): FieldErrors | null {
  return VALID_FILENAME.test(config.path) ? null : { path: 'not a valid filename' };
}
