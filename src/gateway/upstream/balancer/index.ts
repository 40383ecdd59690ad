/**
 * @module gateway/upstream/balancer
 * Load balancing over an upstream's targets: the Balancer, its peers, and what a request must
 * expose to be balanced. Health-check types are re-exported so callers need one import.
 */
export {
  Balancer, type BalancerOptions, type BalancerWeights, type HealthSource,
  type TargetHealthChange, type TargetHealthListener, type UpstreamHealthListener,
} from './balancer.ts';
export { BalancerPeer, parseTarget, DEFAULT_TARGET_PORT, type DnsState } from './peer.ts';
export { valueToHash, stickyCookieHeader, mergeSetCookie, type BalanceRequest } from './hash-value.ts';
export { hashString } from './consistent-hashing.ts';
export type { HealthOutcome } from '../health/target-health.ts';
