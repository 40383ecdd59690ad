/**
 * @module plugins/ip-restriction/handler
 * Refuses clients by IP: the deny list is checked first, then the allow list. The IP is Kong's
 * forwarded client address (after trusted_ips / real_ip_header processing).
 */
import type { PluginExit, PluginHandlers } from '../api.ts';
import { CidrSet } from '../../net/cidr.ts';
import type { IpRestrictionConfig } from './schema.ts';

export function createIpRestriction(config: IpRestrictionConfig): PluginHandlers {
  const deny = config.deny && config.deny.length > 0 ? new CidrSet(config.deny) : null;
  const allow = config.allow && config.allow.length > 0 ? new CidrSet(config.allow) : null;
  const status = config.status ?? 403;
  const message = config.message ?? null;

  const refuse = (ip: string): PluginExit => ({ status, message: message ?? `IP address not allowed: ${ip}` });

  return {
    access(ctx) {
      const ip = ctx.request.clientIp;
      if (!ip) return { status: 403, message: 'Cannot identify the client IP address, unix domain sockets are not supported.' };
      if (deny !== null && deny.has(ip)) return refuse(ip);
      if (allow !== null && !allow.has(ip)) return refuse(ip);
    },
  };
}
