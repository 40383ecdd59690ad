/**
 * What the process-fault test files share: upstreams and gateway child processes that are all
 * stopped after the importing file's tests.
 */
import { after } from 'node:test';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './gateway-process.ts';
import { startRecordingUpstream, type Upstream } from './upstreams.ts';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

/** Runs `stop` after the file's tests, latest first. */
export function onCleanup(stop: () => Promise<unknown>): void {
  cleanup.push(stop);
}

export async function upstream(respond?: Parameters<typeof startRecordingUpstream>[0]): Promise<Upstream> {
  const u = await startRecordingUpstream(respond);
  onCleanup(() => u.close());
  return u;
}

/** `turnpike gateway` as a child process with only the proxy listening, on a config file. */
export function spawnGateway(proxyListen: string, config: unknown, extra: string[], options: SpawnOptions = {}): ChildProcess {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-faults-'));
  writeFileSync(join(dir, 'kong.json'), JSON.stringify(config));
  const child = spawn(process.execPath, [BIN, 'gateway', '--proxy-listen', proxyListen, '--admin-listen', 'off',
    '--status-listen', 'off', '--gui-listen', 'off', ...extra, '--config', join(dir, 'kong.json')], options);
  onCleanup(async () => { child.kill('SIGKILL'); });
  return child;
}
