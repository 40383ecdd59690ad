/**
 * @module cli/gateway-command
 * `turnpike gateway`: starts the primary process with its workers and, optionally, a config file.
 * An invalid file stops the start with the same errors `POST /config` would return.
 */
import { resolve } from 'node:path';
import { runGateway, ConfigLoadError, type GatewayOptions, type RunningGateway } from '../gateway/supervisor.ts';
import { readFileOrFail } from './main.ts';
import { formatListen } from '../gateway/listen.ts';

export async function startGateway(options: Omit<GatewayOptions, 'initialConfig'>, configFile?: string): Promise<RunningGateway> {
  const initialConfig = configFile
    ? { text: readFileOrFail(configFile), source: `file:${resolve(configFile)}`, filename: configFile }
    : undefined;
  let gw: RunningGateway;
  try {
    gw = await runGateway({ ...options, initialConfig });
  } catch (err) {
    if (err instanceof ConfigLoadError) {
      process.stderr.write(`Error: ${err.message}\n${JSON.stringify(err.detail, null, 2)}\n`);
      process.exit(1);
    }
    throw err;
  }
  const proxies = gw.proxy.map((p) => `${p.ssl ? 'https' : 'http'}://${p.host}:${p.port}`).join(', ');
  process.stdout.write(`turnpike ${options.version}: proxy ${proxies}; admin ${gw.admin.map(formatListen).join(', ') || 'off'}; status ${gw.status.map(formatListen).join(', ') || 'off'}; ${options.workers} worker(s)\n`);
  installSignals(gw);
  return gw;
}

export function installSignals(gw: RunningGateway): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: draining\n`);
    gw.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
