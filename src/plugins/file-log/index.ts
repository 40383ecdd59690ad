/**
 * @module plugins/file-log
 * Kong's file-log plugin (priority 9): after the response went out, one JSON line per request
 * (the log serializer's entry, encoded like cjson) is appended to `path`. The write happens off
 * the request path (writer.ts); `reopen` reopens the file for every batch of lines.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { FileLogSchema, checkFileLog } from './schema.ts';
import { acquireWriter, releaseWriter } from './writer.ts';
import { applyCustomFields, compileCustomFields, encodeLogEntry } from './log-entry.ts';

export default definePlugin({
  name: 'file-log',
  version: VERSION,
  priority: 9,
  schema: FileLogSchema,
  check: checkFileLog,
  create(config, env) {
    const custom = compileCustomFields(config.custom_fields_by_lua, env.log, 'file-log');
    const writer = acquireWriter(config.path, env.log);
    const reopen = config.reopen;
    let released = false;
    return {
      log(ctx) {
        try {
          const entry = ctx.serialize();
          if (custom.length > 0) applyCustomFields(entry, custom);
          writer.write(encodeLogEntry(entry) + '\n', reopen);
        } catch (err) {
          ctx.log.error(`file-log: could not log the request: ${(err as Error).message}`);
        }
      },
      dispose() {
        if (released) return;
        released = true;
        releaseWriter(writer);
      },
    };
  },
});
