/**
 * @module plugins/openid-connect/claims
 * Pure checks on a decoded token's claims: registered time claims with leeway, issuer and
 * audience (RFC 7519 §4.1, OpenID Connect Core §3.1.3.7), and Kong's "AND inside an entry, OR
 * across entries" matching for `scopes_required` / `audience_required`.
 */

/** The value at a claim path (`['realm_access', 'roles']`), or undefined. */
export function claimAt(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const name of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[name];
  }
  return v;
}

/** A claim as a list of strings: space-separated string (OAuth `scope`) or array of strings. */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Kong's required-values rule: `required` entries are alternatives; each entry is a
 * space-separated list of values that must all be present.
 */
export function satisfiesRequired(present: readonly string[], required: readonly string[]): boolean {
  const have = new Set(present);
  return required.some((entry) => entry.split(' ').filter((s) => s !== '').every((v) => have.has(v)));
}

export interface ClaimRules {
  /** The issuer the token must name (`iss`). */
  issuers: readonly string[];
  /** When non-null, `aud` must contain one of these. */
  audience: readonly string[] | null;
  audienceClaim: readonly string[];
  leeway: number;
}

/** Returns why the claims are not acceptable, or null. `now` is unix seconds. */
export function claimProblem(claims: Record<string, unknown>, rules: ClaimRules, now: number): string | null {
  const { exp, nbf, iat, iss } = claims;
  // A bearer token that never expires is a permanent credential: refused.
  if (typeof exp !== 'number') return 'token has no valid exp claim';
  if (exp + rules.leeway <= now) return 'token expired';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - rules.leeway > now)) return 'token not valid yet (nbf)';
  if (iat !== undefined && (typeof iat !== 'number' || iat - rules.leeway > now)) return 'token issued in the future (iat)';
  if (typeof iss !== 'string' || !rules.issuers.includes(iss)) return 'invalid issuer';
  if (rules.audience) {
    const value = claimAt(claims, rules.audienceClaim);
    // `aud` is one string or an array of strings (never space-separated like `scope`).
    const aud = typeof value === 'string' ? [value] : claimValues(value);
    if (!aud.some((a) => rules.audience!.includes(a))) return 'invalid audience';
  }
  return null;
}
