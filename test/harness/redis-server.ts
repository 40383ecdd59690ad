/**
 * @module test/harness/redis-server
 * A real `redis-server` (Debian's, installed by .ci/run) on a free loopback port, with the faults
 * tests need: stop it, start it again on the same port, and make it slow (a blocking script).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './ports.ts';

export interface RedisProcess {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a raw command and returns the raw reply (RESP). */
  command(...args: string[]): Promise<string>;
  /** Blocks the server for `ms` (DEBUG SLEEP) without waiting for it. */
  freeze(ms: number): void;
}

function resp(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const send = (args: string[], wait: boolean) => new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => { out += d; if (wait && out.endsWith('\r\n')) { s.end(); resolve(out); } });
    s.on('error', reject);
    s.write(resp(args));
    if (!wait) { setTimeout(() => { s.destroy(); resolve(''); }, 50); }
  });
  const r: RedisProcess = {
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--enable-debug-command', 'yes'], { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      for (;;) {
        try { if ((await send(['PING'], true)).includes('PONG')) return; } catch { /* not up yet */ }
        if (Date.now() > deadline) throw new Error('redis-server did not start');
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      const exited = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await exited;
    },
    command: (...args) => send(args, true),
    freeze(ms) { void send(['DEBUG', 'SLEEP', String(ms / 1000)], false).catch(() => {}); },
  };
  await r.start();
  return r;
}
