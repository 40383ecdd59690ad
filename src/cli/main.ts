/**
 * @module cli/main
 * `turnpike gateway | echo | config validate | start | translate | run | controller`.
 * Every gateway flag is also an environment variable (`--proxy-listen` = TURNPIKE_PROXY_LISTEN),
 * as every kong.conf property is a KONG_* variable.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { VERSION } from '../version.ts';
import { parseDuration, SettingsError } from '../gateway/settings.ts';

function gatewayOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--proxy-listen <addrs>', 'proxy listeners, e.g. "0.0.0.0:8000, 0.0.0.0:8443 ssl"').env('TURNPIKE_PROXY_LISTEN').default('0.0.0.0:8000'))
    .addOption(new Option('--admin-listen <addrs>', 'Admin API listeners ("off" to disable)').env('TURNPIKE_ADMIN_LISTEN').default('127.0.0.1:8001'))
    .addOption(new Option('--status-listen <addrs>', 'Status API listeners ("off" to disable)').env('TURNPIKE_STATUS_LISTEN').default('127.0.0.1:8100'))
    .addOption(new Option('--gui-listen <addrs>', 'read-only dashboard listeners ("off" to disable)').env('TURNPIKE_GUI_LISTEN').default('127.0.0.1:8002'))
    .addOption(new Option('--workers <n>', 'worker processes (default: one per core)').env('TURNPIKE_WORKERS'))
    .addOption(new Option('--log-level <level>', 'debug, info, notice, warn, error, crit, alert, emerg, silent').env('TURNPIKE_LOG_LEVEL').default('info'))
    .addOption(new Option('--access-log <target>', 'one JSON line per request (Kong\'s log entry): stdout, stderr, off or a file path').env('TURNPIKE_ACCESS_LOG').default('off'))
    .addOption(new Option('--otlp-endpoint <url>', 'export OpenTelemetry traces over OTLP/HTTP to this collector (off by default)').env('TURNPIKE_OTLP_ENDPOINT'))
    .addOption(new Option('--headers <list>', "Kong's `headers` property").env('TURNPIKE_HEADERS').default('server_tokens, latency_tokens'))
    .addOption(new Option('--headers-upstream <list>', "Kong's `headers_upstream` property").env('TURNPIKE_HEADERS_UPSTREAM').default('x-kong-request-id'))
    .addOption(new Option('--trusted-ips <cidrs>', 'peers whose X-Forwarded-* and real-IP headers are believed').env('TURNPIKE_TRUSTED_IPS'))
    .addOption(new Option('--real-ip-header <name>', 'header with the client IP from trusted peers').env('TURNPIKE_REAL_IP_HEADER').default('X-Real-IP'))
    .addOption(new Option('--real-ip-recursive', 'skip trusted addresses in the real-IP header').env('TURNPIKE_REAL_IP_RECURSIVE'))
    .addOption(new Option('--plugin <file...>', 'load a custom plugin module (repeatable)').env('TURNPIKE_PLUGINS'))
    .addOption(new Option('--admin-token <token>', 'require this bearer token on the Admin API').env('TURNPIKE_ADMIN_TOKEN'))
    .addOption(new Option('--client-max-body-size <size>', 'largest request body (e.g. 10m, 512k; 0 = unlimited, as Kong)').env('TURNPIKE_CLIENT_MAX_BODY_SIZE').default('0'))
    .addOption(new Option('--client-header-timeout <time>', 'time to receive request headers, else 408 (e.g. 60s, 500ms)').env('TURNPIKE_CLIENT_HEADER_TIMEOUT').default('60s'))
    .addOption(new Option('--client-body-timeout <time>', 'longest pause while reading a request body before the connection is closed').env('TURNPIKE_CLIENT_BODY_TIMEOUT').default('60s'))
    .addOption(new Option('--drain-timeout <time>', 'on SIGTERM, how long in-flight requests may take before connections are cut').env('TURNPIKE_DRAIN_TIMEOUT').default('10s'));
}

interface GatewayFlags {
  proxyListen: string; adminListen: string; statusListen: string; guiListen?: string; workers?: string; logLevel: string;
  headers: string; headersUpstream: string; trustedIps?: string; realIpHeader: string; realIpRecursive?: boolean;
  plugin?: string[] | string; adminToken?: string; clientMaxBodySize?: string;
  clientHeaderTimeout?: string; clientBodyTimeout?: string; drainTimeout?: string;
  accessLog?: string; otlpEndpoint?: string;
}

function workerCount(v: string | undefined): number {
  if (v === undefined || v === 'auto') return Math.max(1, os.availableParallelism());
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be a positive integer or "auto", got '${v}'`);
  return n;
}

/** nginx-style sizes: `1024`, `8k`, `10m`, `1g`. */
export function parseSize(v: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size '${v}': expected a number with an optional k, m or g suffix`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']);
}

function pluginPaths(v: string[] | string | undefined): string[] {
  if (!v) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function gatewayRunOptions(flags: GatewayFlags) {
  return {
    version: VERSION,
    proxyListen: flags.proxyListen,
    adminListen: flags.adminListen,
    statusListen: flags.statusListen,
    guiListen: flags.guiListen ?? 'off',
    workers: workerCount(flags.workers),
    logLevel: flags.logLevel,
    settings: {
      version: VERSION, headers: flags.headers, headersUpstream: flags.headersUpstream,
      trustedIps: flags.trustedIps, realIpHeader: flags.realIpHeader, realIpRecursive: !!flags.realIpRecursive,
      clientMaxBodySize: parseSize(flags.clientMaxBodySize ?? '0'),
      clientHeaderTimeoutMs: parseDuration(flags.clientHeaderTimeout ?? '60s'),
      clientBodyTimeoutMs: parseDuration(flags.clientBodyTimeout ?? '60s'),
      accessLog: flags.accessLog, otlpEndpoint: flags.otlpEndpoint,
    },
    pluginPaths: pluginPaths(flags.plugin),
    adminToken: flags.adminToken,
    drainTimeoutMs: parseDuration(flags.drainTimeout ?? '10s'),
  };
}

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('turnpike')
    .description('A Kong-compatible API gateway and Kubernetes ingress controller')
    .version(VERSION);

  gatewayOptions(program.command('gateway').description('run the gateway'))
    .addOption(new Option('-c, --config <file>', 'declarative config (YAML or JSON)').env('TURNPIKE_CONFIG'))
    .addOption(new Option('--watch', 'reload --config when the file changes').env('TURNPIKE_CONFIG_WATCH'))
    .action(async (flags: GatewayFlags & { config?: string; watch?: boolean }) => {
      const { startGateway } = await import('./gateway-command.ts');
      await startGateway(gatewayRunOptions(flags), flags.config, !!flags.watch);
    });

  program.command('echo')
    .description("an echo upstream that answers like Kong's go-echo image")
    .addOption(new Option('--listen <addr>', 'HOST:PORT').env('TURNPIKE_ECHO_LISTEN').default('127.0.0.1:1027'))
    .action(async (flags: { listen: string }) => {
      const { startEchoServer } = await import('../echo/echo-server.ts');
      const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(flags.listen);
      if (!m) fail(`invalid --listen '${flags.listen}': expected HOST:PORT`);
      const { port } = await startEchoServer(m[1] ?? (m[2] || '0.0.0.0'), Number(m[3]));
      process.stdout.write(`echo listening on ${m[1] ?? (m[2] || '0.0.0.0')}:${port}\n`);
    });

  const config = program.command('config').description('work with declarative config files');
  config.command('validate <file>')
    .description('validate a declarative config; exit 1 with the errors POST /config would give')
    .addOption(new Option('--plugin <file...>', 'custom plugin modules the config uses').env('TURNPIKE_PLUGINS'))
    .option('--json', "print Kong's error body instead of file:line:col lines")
    .action(async (file: string, flags: { plugin?: string[]; json?: boolean }) => {
      const { validateFile } = await import('./config-command.ts');
      process.exitCode = await validateFile(file, pluginPaths(flags.plugin), !!flags.json);
    });
  config.command('diff <before> <after>')
    .description('entity-level differences between two declarative configs; exit 0 when equal, 1 when not, 2 on errors')
    .addOption(new Option('--plugin <file...>', 'custom plugin modules the configs use').env('TURNPIKE_PLUGINS'))
    .action(async (before: string, after: string, flags: { plugin?: string[] }) => {
      const { diffFiles } = await import('./config-command.ts');
      process.exitCode = await diffFiles(before, after, pluginPaths(flags.plugin));
    });
  const adminUrlOption = () => new Option('--admin-url <url>', 'the gateway\'s Admin API').env('TURNPIKE_ADMIN_URL').default('http://127.0.0.1:8001');
  const adminTokenOption = () => new Option('--admin-token <token>', 'bearer token for the Admin API').env('TURNPIKE_ADMIN_TOKEN');
  config.command('push <file>')
    .description('load a declarative config into a running gateway (POST /config); "unchanged" when it already runs it')
    .addOption(adminUrlOption()).addOption(adminTokenOption())
    .action(async (file: string, flags: { adminUrl: string; adminToken?: string }) => {
      const { pushConfig } = await import('./config-remote.ts');
      process.exitCode = await pushConfig(file, flags);
    });
  config.command('dump')
    .description('write a running gateway\'s configuration (GET /config) as decK dumps it')
    .addOption(adminUrlOption()).addOption(adminTokenOption())
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--with-id', 'keep entity ids')
    .action(async (flags: { adminUrl: string; adminToken?: string; output?: string; format: 'yaml' | 'json'; withId?: boolean }) => {
      const { dumpConfig } = await import('./config-remote.ts');
      process.exitCode = await dumpConfig(flags);
    });

  gatewayOptions(program.command('start').description('the getting-started example: echo upstream + gateway'))
    .action(async (flags: GatewayFlags) => {
      const { startExample } = await import('./start-command.ts');
      await startExample(gatewayRunOptions(flags));
    });

  program.command('translate')
    .description('print the declarative config that Kubernetes manifests translate to')
    .requiredOption('-f, --file <path...>', 'manifest files or folders, - for stdin')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .addOption(new Option('--ingress-class <name>', 'the ingress class to serve').env('TURNPIKE_INGRESS_CLASS').default('kong'))
    .option('--backend <ns/svc=host:port...>', 'where a Service without EndpointSlices sends traffic')
    .action(async (flags) => {
      const { translateCommand } = await import('./manifest-commands.ts');
      process.exitCode = await translateCommand(flags);
    });

  gatewayOptions(program.command('run').description('run a gateway from Kubernetes manifests on one machine, no cluster'))
    .requiredOption('-f, --file <path...>', 'manifest files or folders')
    .option('--backend <ns/svc=host:port...>', 'where a Service without EndpointSlices sends traffic')
    .addOption(new Option('--ingress-class <name>', 'the ingress class to serve').env('TURNPIKE_INGRESS_CLASS').default('kong'))
    .option('--no-watch', 'do not re-apply when the files change')
    .action(async (flags: GatewayFlags & { file: string[]; backend?: string[]; ingressClass: string; watch: boolean }) => {
      const { runCommand } = await import('./manifest-commands.ts');
      await runCommand(flags, gatewayRunOptions(flags));
    });

  program.command('controller')
    .description('watch Kubernetes and push the translated config to every gateway')
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig (default: in-cluster, then ~/.kube/config)').env('KUBECONFIG'))
    .addOption(new Option('--watch-namespace <ns>', 'only watch this namespace').env('TURNPIKE_WATCH_NAMESPACE'))
    .addOption(new Option('--ingress-class <name>', 'the ingress class to serve').env('TURNPIKE_INGRESS_CLASS').default('kong'))
    .addOption(new Option('--gateway-api-controller-name <name>', 'GatewayClass controllerName to serve').env('TURNPIKE_GATEWAY_API_CONTROLLER_NAME').default('konghq.com/kic-gateway-controller'))
    .addOption(new Option('--gateway-admin-url <url...>', 'gateway Admin API URLs (static list)').env('TURNPIKE_GATEWAY_ADMIN_URL'))
    .addOption(new Option('--kong-admin-svc <ns/name>', 'discover gateways from this Service\'s EndpointSlices').env('TURNPIKE_KONG_ADMIN_SVC'))
    .addOption(new Option('--kong-admin-svc-port-names <names>', 'admin port names in those EndpointSlices').env('TURNPIKE_KONG_ADMIN_SVC_PORT_NAMES').default('admin,kong-admin,admin-tls,kong-admin-tls'))
    .addOption(new Option('--admin-token <token>', 'bearer token for the gateways\' Admin API').env('TURNPIKE_ADMIN_TOKEN'))
    .addOption(new Option('--publish-service <ns/name>', 'Service whose addresses go into Ingress and Gateway status').env('TURNPIKE_PUBLISH_SERVICE'))
    .addOption(new Option('--publish-status-address <addr...>', 'addresses for Ingress status').env('TURNPIKE_PUBLISH_STATUS_ADDRESS'))
    .addOption(new Option('--health-probe-listen <addr>', '/healthz and /readyz').env('TURNPIKE_HEALTH_PROBE_LISTEN').default('0.0.0.0:10254'))
    .addOption(new Option('--metrics-listen <addr>', 'Prometheus metrics').env('TURNPIKE_METRICS_LISTEN').default('0.0.0.0:10255'))
    .addOption(new Option('--election-id <name>', 'Lease name for leader election').env('TURNPIKE_ELECTION_ID').default('5b374a9e.konghq.com'))
    .addOption(new Option('--election-namespace <ns>', 'Lease namespace').env('POD_NAMESPACE').default('kong'))
    .option('--no-leader-election', 'run without a Lease (a single controller replica)')
    .addOption(new Option('--log-level <level>', 'debug, info, warn, error').env('TURNPIKE_LOG_LEVEL').default('info'))
    .action(async (flags) => {
      const { controllerCommand } = await import('./controller-command.ts');
      await controllerCommand(flags);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    // A bad flag value is the user's to fix: its message, not a stack trace.
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
}

export function readFileOrFail(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as Error).message}`);
  }
}
