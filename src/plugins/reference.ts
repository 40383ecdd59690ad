/**
 * @module plugins/reference
 * The plugin reference (docs/plugins.md) rendered from the plugins' own TypeBox schemas, so the
 * documented fields, types and defaults are the validated ones. `scripts/gen-plugin-docs.ts`
 * writes it; `plugins/reference.test.ts` fails when the file and the schemas differ.
 */
import type { TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from './api.ts';

interface Row { field: string; type: string; default: string; constraints: string }

const code = (s: string) => '`' + s.replace(/\|/g, '\\|') + '`';

function typeName(s: TSchema): string {
  if (s.anyOf) {
    const parts = (s.anyOf as TSchema[]).filter((x) => x.type !== 'null').map(typeName);
    const nullable = (s.anyOf as TSchema[]).some((x) => x.type === 'null');
    const allConst = (s.anyOf as TSchema[]).every((x) => x.const !== undefined || x.type === 'null');
    if (allConst) return 'string' + (nullable ? ' or null' : '');
    return [...new Set(parts)].join(' or ') + (nullable ? ' or null' : '');
  }
  if (s.const !== undefined) return typeof s.const;
  if (s.type === 'array') return `array of ${typeName(s.items as TSchema)}`;
  if (s.type === 'object') return s.properties ? 'record' : 'map';
  return String(s.type ?? 'any');
}

function constraints(s: TSchema): string {
  const out: string[] = [];
  const variants = s.anyOf ? (s.anyOf as TSchema[]) : [s];
  const consts = variants.filter((v) => v.const !== undefined).map((v) => String(v.const));
  if (consts.length) out.push(`one of ${consts.map(code).join(', ')}`);
  for (const v of variants) {
    if (v.enum) out.push(`one of ${(v.enum as unknown[]).map((x) => code(String(x))).join(', ')}`);
    if (v.minimum !== undefined) out.push(`≥ ${v.minimum}`);
    if (v.exclusiveMinimum !== undefined) out.push(`> ${v.exclusiveMinimum}`);
    if (v.maximum !== undefined) out.push(`≤ ${v.maximum}`);
    if (v.minLength !== undefined && v.minLength > 1) out.push(`length ≥ ${v.minLength}`);
    if (v.maxLength !== undefined) out.push(`length ≤ ${v.maxLength}`);
    if (v.type === 'array' && v.minItems !== undefined) out.push(`≥ ${v.minItems} item(s)`);
    if (v.type === 'array' && v.items && (v.items as TSchema).anyOf) {
      const inner = ((v.items as TSchema).anyOf as TSchema[]).filter((x) => x.const !== undefined).map((x) => String(x.const));
      if (inner.length) out.push(`items one of ${inner.map(code).join(', ')}`);
    }
    if (v.type === 'array' && v.items && (v.items as TSchema).enum) out.push(`items one of ${((v.items as TSchema).enum as unknown[]).map((x) => code(String(x))).join(', ')}`);
  }
  return [...new Set(out)].join('; ');
}

function rows(schema: TSchema, prefix = ''): Row[] {
  const out: Row[] = [];
  const props = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, s] of Object.entries(props)) {
    const field = prefix + name;
    const hasDefault = s.default !== undefined;
    const dflt = hasDefault ? code(JSON.stringify(s.default)) : required.has(name) ? '*required*' : '';
    const objectVariant = s.type === 'object' && s.properties ? s : (s.anyOf as TSchema[] | undefined)?.find((x) => x.type === 'object' && x.properties);
    if (objectVariant) {
      out.push({ field: code(field), type: typeName(s), default: dflt, constraints: constraints(s) });
      out.push(...rows(objectVariant, field + '.'));
    } else {
      out.push({ field: code(field), type: typeName(s), default: dflt, constraints: constraints(s) });
    }
  }
  return out;
}

export function renderPluginReference(plugins: readonly PluginDefinition[]): string {
  const sorted = [...plugins].sort((a, b) => a.name.localeCompare(b.name));
  const lines = [
    '# Plugin reference',
    '',
    '<!-- Generated from the plugins\' schemas by `node --import tsx scripts/gen-plugin-docs.ts`; do not edit. -->',
    '',
    'Every bundled plugin with its priority and its `config` fields as the validator applies them: type,',
    'default and constraints. Field names, defaults and validation messages follow Kong; where Turnpike',
    'differs on purpose, README.md ("Differences from Kong and KIC") says so.',
    '',
    ...sorted.map((p) => `- [\`${p.name}\`](#${p.name})`),
    '',
  ];
  for (const p of sorted) {
    const scopes = [p.noConsumer ? 'not on consumers' : '', p.noRoute ? 'not on routes' : '', p.noService ? 'not on services' : ''].filter(Boolean);
    lines.push(`## ${p.name}`, '', `Priority ${p.priority}, version ${p.version}${scopes.length ? `; ${scopes.join(', ')}` : ''}.`, '');
    const r = rows(p.schema);
    if (r.length === 0) { lines.push('No configuration fields.', ''); continue; }
    lines.push('| field | type | default | constraints |', '|---|---|---|---|');
    for (const row of r) lines.push(`| ${row.field} | ${row.type} | ${row.default} | ${row.constraints} |`);
    lines.push('');
  }
  return lines.join('\n');
}
