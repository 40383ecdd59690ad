/**
 * @module config/export
 * The declarative form of a normalized config, as Kong's export writes it (`GET /config`,
 * `turnpike config dump`): `_format_version: "3.0"`, `_transform: false` (secrets are already
 * in stored form), flat collections with ids, foreign keys as id strings, nulls kept.
 */
import { stringify } from 'yaml';
import { ENTITY_KEYS, type Config, type Oauth2Credential } from './entities.ts';
import { presentOauth2Credential } from './stored-secrets.ts';

/** Foreign-key fields per collection, written as the referenced id. */
const FOREIGN_FIELDS = ['service', 'route', 'consumer', 'upstream', 'certificate', 'client_certificate'];

export function exportConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { _format_version: '3.0', _transform: false };
  for (const key of ENTITY_KEYS) {
    const items = config[key] as unknown as Record<string, unknown>[];
    if (items.length === 0) continue;
    out[key] = items.map((item) => {
      // Secrets Kong would only have stored hashed are exported hashed (hence `_transform: false`).
      const shown = key === 'oauth2_credentials' ? presentOauth2Credential(item as unknown as Oauth2Credential) : item;
      const row: Record<string, unknown> = { ...shown };
      for (const f of FOREIGN_FIELDS) {
        const v = row[f];
        if (typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string') row[f] = (v as { id: string }).id;
      }
      return row;
    });
  }
  return out;
}

/** The export as YAML text (what Kong's `GET /config` puts in its `config` field). */
export function exportConfigYaml(config: Config): string {
  return stringify(exportConfig(config), { aliasDuplicateObjects: false, lineWidth: 0 });
}
