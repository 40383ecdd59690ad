/**
 * @module plugins/acl/access
 * acl's access phase, following Kong: the caller's groups are the authenticated groups (set by
 * ldap-auth / openid-connect style plugins, used when there is no consumer, the consumer is
 * anonymous, or `always_use_authenticated_groups`) or else the consumer's acls. Allow-mode needs
 * one listed group, deny-mode none; the groups go upstream unless `hide_groups_header`.
 */
import type { Acl } from '../../config/entities.ts';
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import type { AclConfig } from './schema.ts';

export const HEADER_CONSUMER_GROUPS = 'x-consumer-groups';
export const HEADER_AUTHENTICATED_GROUPS = 'x-authenticated-groups';

const FORBIDDEN: PluginExit = { status: 403, message: 'You cannot consume this service' };
const UNAUTHORIZED: PluginExit = { status: 401, message: 'Unauthorized' };

/** The verdict for one list of groups: blocked, or the header value to send. */
type Verdict = { blocked: true } | { blocked: false; header: string };

/** Authenticated groups as Kong finds them: the context's, or `kong.ctx.shared.authenticated_groups`. */
function authenticatedGroups(ctx: PluginContext): readonly string[] | null {
  if (ctx.authenticatedGroups) return ctx.authenticatedGroups;
  const shared = ctx.shared['authenticated_groups'];
  return Array.isArray(shared) ? shared.filter((g): g is string => typeof g === 'string') : null;
}

export function createAclHandlers(config: AclConfig): PluginHandlers {
  const deny = (config.deny?.length ?? 0) > 0;
  const listed = new Set(deny ? config.deny! : config.allow ?? []);
  const hide = config.hide_groups_header;
  const alwaysAuthenticated = config.always_use_authenticated_groups;
  // A consumer's acl list is one array per config snapshot, so its verdict is computed once.
  const verdicts = new WeakMap<readonly Acl[], Verdict>();

  function judge(groups: readonly string[]): Verdict {
    let inGroup = false;
    for (const g of groups) if (listed.has(g)) { inGroup = true; break; }
    return (deny ? inGroup : !inGroup) ? { blocked: true } : { blocked: false, header: groups.join(', ') };
  }

  function apply(ctx: PluginContext, verdict: Verdict, headerName: string): PluginExit | undefined {
    if (verdict.blocked) return FORBIDDEN;
    // Group headers come from this plugin only, never from the client.
    ctx.upstream.removeHeader(HEADER_CONSUMER_GROUPS);
    ctx.upstream.removeHeader(HEADER_AUTHENTICATED_GROUPS);
    if (!hide && verdict.header !== '') ctx.upstream.setHeader(headerName, verdict.header);
    return undefined;
  }

  return {
    access(ctx) {
      const consumerId = ctx.consumer?.id ?? ctx.credential?.consumer?.id ?? null;
      if (consumerId === null) {
        const groups = authenticatedGroups(ctx);
        if (!groups) return ctx.credential ? FORBIDDEN : UNAUTHORIZED;
        return apply(ctx, judge(groups), HEADER_AUTHENTICATED_GROUPS);
      }
      // An anonymous consumer (no credential) gives way to authenticated groups.
      const groups = !ctx.credential || alwaysAuthenticated ? authenticatedGroups(ctx) : null;
      if (groups) return apply(ctx, judge(groups), HEADER_AUTHENTICATED_GROUPS);
      const acls = ctx.consumers.acls(consumerId);
      if (acls.length === 0 && !deny) return ctx.credential ? FORBIDDEN : UNAUTHORIZED;
      let verdict = verdicts.get(acls);
      if (!verdict) {
        verdict = judge(acls.map((a) => a.group));
        verdicts.set(acls, verdict);
      }
      return apply(ctx, verdict, HEADER_CONSUMER_GROUPS);
    },
  };
}
