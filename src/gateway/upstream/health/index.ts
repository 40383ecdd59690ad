/**
 * @module gateway/upstream/health
 * Target health: the passive/active state machine, active probing, and the Admin API reports.
 */
export { TargetHealth, HealthRules, healthchecksEnabled, type HealthOutcome, type ProbeOutcome, type InternalHealth } from './target-health.ts';
export { ActiveHealthChecker, type ActiveCheckerHooks, type ProbeTarget } from './active-checker.ts';
export { probe, serializeProbeHeaders, type ProbeRequest } from './probe.ts';
export {
  upstreamHealth, balancerHealth, targetHealthRows, type TargetHealthRow,
  type UpstreamHealthBody, type BalancerHealthBody, type TargetWithHealth, type TargetStatus, type AddressHealth, type TargetHealthLabel,
} from './health-report.ts';
