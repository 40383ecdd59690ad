/**
 * @module cli/controller-command
 * `turnpike controller`: flag parsing around `runController`.
 */
import { runController } from '../controller/controller.ts';
import { createLogger } from '../observability/logger.ts';

export interface ControllerFlags {
  kubeconfig?: string; watchNamespace?: string; ingressClass: string; gatewayApiControllerName: string;
  gatewayAdminUrl?: string[] | string; kongAdminSvc?: string; kongAdminSvcPortNames: string; adminToken?: string;
  publishService?: string; publishStatusAddress?: string[] | string; healthProbeListen: string; metricsListen: string;
  electionId: string; electionNamespace: string; leaderElection: boolean; logLevel: string;
}

function list(v: string[] | string | undefined): string[] {
  if (!v) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export async function controllerCommand(flags: ControllerFlags): Promise<void> {
  const log = createLogger(flags.logLevel, { role: 'controller' });
  for (const [flag, value] of [['--publish-service', flags.publishService], ['--kong-admin-svc', flags.kongAdminSvc]] as const) {
    if (value !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(value)) {
      process.stderr.write(`Error: ${flag}: expected namespace/name, got "${value}"\n`);
      process.exit(1);
    }
  }
  const urls = list(flags.gatewayAdminUrl);
  const controller = await runController({
    kubeconfig: flags.kubeconfig,
    namespace: flags.watchNamespace,
    translate: { ingressClass: flags.ingressClass, gatewayControllerName: flags.gatewayApiControllerName },
    gatewayAdminUrls: urls.length === 0 && !flags.kongAdminSvc ? ['http://127.0.0.1:8001'] : urls,
    kongAdminSvc: flags.kongAdminSvc,
    kongAdminPortNames: list(flags.kongAdminSvcPortNames),
    adminToken: flags.adminToken,
    publishService: flags.publishService,
    publishStatusAddress: list(flags.publishStatusAddress),
    healthListen: flags.healthProbeListen,
    metricsListen: flags.metricsListen,
    electionId: flags.electionId,
    electionNamespace: flags.electionNamespace,
    leaderElection: flags.leaderElection && !!flags.kongAdminSvc,
    log,
  });
  log.info('controller started');
  const stop = () => { controller.stop().then(() => process.exit(0), () => process.exit(1)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
