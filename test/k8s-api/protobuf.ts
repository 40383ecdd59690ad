/**
 * @module test/k8s-api/protobuf
 * Decodes the Kubernetes protobuf bodies kubectl sends from its typed clients (`kubectl create
 * namespace|secret|configmap` POST `application/vnd.kubernetes.protobuf`, not JSON). The envelope is
 * the magic `k8s\0` followed by a `runtime.Unknown` {typeMeta{apiVersion, kind}, raw, ...}; `raw` is
 * the object's own message. Only the messages those commands produce are described (Namespace,
 * Secret, ConfigMap and ObjectMeta); other kinds are refused with 415 by the caller. Field numbers
 * are those of k8s.io/api/core/v1 and apimachinery meta/v1 `generated.proto`.
 */
import type { JsonObject } from './resources.ts';

type FieldType = 'string' | 'bytes' | 'int64' | 'bool' | 'time' | 'stringMap' | 'bytesMap' | 'message';

interface FieldSpec {
  name: string;
  type: FieldType;
  repeated?: boolean;
  message?: MessageSpec;
}

type MessageSpec = Record<number, FieldSpec>;

const objectMeta: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: 'time' },
  11: { name: 'labels', type: 'stringMap' },
  12: { name: 'annotations', type: 'stringMap' },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

/** Message schemas by `apiVersion/kind`. */
const kinds: Record<string, MessageSpec> = {
  'v1/Namespace': {
    1: { name: 'metadata', type: 'message', message: objectMeta },
    2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
    3: { name: 'status', type: 'message', message: { 1: { name: 'phase', type: 'string' } } },
  },
  'v1/Secret': {
    1: { name: 'metadata', type: 'message', message: objectMeta },
    2: { name: 'data', type: 'bytesMap' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'stringMap' },
    5: { name: 'immutable', type: 'bool' },
  },
  'v1/ConfigMap': {
    1: { name: 'metadata', type: 'message', message: objectMeta },
    2: { name: 'data', type: 'stringMap' },
    3: { name: 'binaryData', type: 'bytesMap' },
    4: { name: 'immutable', type: 'bool' },
  },
};

export class ProtobufError extends Error {}

interface RawField {
  no: number;
  wire: number;
  value: bigint | Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function readFields(buf: Buffer): RawField[] {
  const out: RawField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ no, wire, value: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2 + Number(len);
      if (pos > buf.length) throw new ProtobufError('truncated field');
      out.push({ no, wire, value: buf.subarray(p2, pos) });
    } else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function decodeMessage(buf: Buffer, spec: MessageSpec): JsonObject {
  const out: JsonObject = {};
  for (const f of readFields(buf)) {
    const fs = spec[f.no];
    if (!fs) continue;
    let value: unknown;
    switch (fs.type) {
      case 'string': value = (f.value as Buffer).toString('utf8'); break;
      case 'bytes': value = (f.value as Buffer).toString('base64'); break;
      case 'int64': value = Number(f.value as bigint); break;
      case 'bool': value = (f.value as bigint) !== 0n; break;
      case 'time': {
        const t = decodeMessage(f.value as Buffer, { 1: { name: 'seconds', type: 'int64' } });
        value = typeof t.seconds === 'number' ? new Date(t.seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
        break;
      }
      case 'message': value = decodeMessage(f.value as Buffer, fs.message!); break;
      case 'stringMap': case 'bytesMap': {
        const entry = decodeMessage(f.value as Buffer, { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: fs.type === 'bytesMap' ? 'bytes' : 'string' } });
        const map = (out[fs.name] ?? {}) as JsonObject;
        map[String(entry.k ?? '')] = entry.v ?? '';
        out[fs.name] = map;
        continue;
      }
    }
    // Zero values are how protobuf says "unset"; JSON leaves them out.
    if (value === undefined || value === '' || value === 0 || value === false) continue;
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) continue;
    if (fs.repeated) out[fs.name] = [...((out[fs.name] as unknown[] | undefined) ?? []), value];
    else out[fs.name] = value;
  }
  return out;
}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `k8s\0`-enveloped object into its JSON form. Throws ProtobufError for unknown kinds. */
export function decodeKubernetesProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) throw new ProtobufError('missing protobuf magic prefix');
  const unknown = decodeMessage(body.subarray(4), {
    1: { name: 'typeMeta', type: 'message', message: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } },
    2: { name: 'raw', type: 'bytes' },
  });
  const typeMeta = (unknown.typeMeta ?? {}) as JsonObject;
  const key = `${String(typeMeta.apiVersion)}/${String(typeMeta.kind)}`;
  const spec = kinds[key];
  if (!spec) throw new ProtobufError(`protobuf bodies are not supported for ${key}; send JSON`);
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, spec) };
}
