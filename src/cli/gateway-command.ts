/**
 * @module cli/gateway-command
 * `turnpike gateway`: starts the primary process with its workers and, optionally, a config file.
 * An invalid file stops the start with the same errors `POST /config` would return.
 */
import { resolve } from 'node:path';
import { runGateway, ConfigLoadError, type GatewayOptions, type RunningGateway } from '../gateway/supervisor.ts';
import { readFileOrFail } from './main.ts';
import { formatListen } from '../gateway/listen.ts';
import { describeRefusal, watchConfigFile } from './config-watch.ts';

export async function startGateway(options: Omit<GatewayOptions, 'initialConfig'>, configFile?: string, watch = false): Promise<RunningGateway> {
  if (watch && !configFile) {
    process.stderr.write('Error: --watch needs --config FILE\n');
    process.exit(1);
  }
  const initialConfig = configFile
    ? { text: readFileOrFail(configFile), source: `file:${resolve(configFile)}`, filename: configFile }
    : undefined;
  let gw: RunningGateway;
  try {
    gw = await runGateway({ ...options, initialConfig });
  } catch (err) {
    if (err instanceof ConfigLoadError) {
      // Each error at the line and column of the file that caused it.
      process.stderr.write(`Error: ${err.message}\n${describeRefusal(configFile!, initialConfig!.text, err.detail)}\n`);
      process.exit(1);
    }
    // A port that is taken or not allowed: the reason, without a stack trace.
    if ((err as NodeJS.ErrnoException).syscall === 'listen') {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Before the line that says the gateway is up: whoever waits for it may signal at once, and
  // a SIGTERM with no handler yet would kill the process without a drain.
  installSignals(gw);
  const proxies = gw.proxy.map((p) => `${p.ssl ? 'https' : 'http'}://${p.host}:${p.port}`).join(', ');
  process.stdout.write(`turnpike ${options.version}: proxy ${proxies}; admin ${gw.admin.map(formatListen).join(', ') || 'off'}; status ${gw.status.map(formatListen).join(', ') || 'off'}; dashboard ${gw.gui.map((a) => `http://${formatListen(a)}/`).join(', ') || 'off'}; ${options.workers} worker(s)\n`);
  if (configFile && watch) watchConfigFile(configFile, gw);
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
