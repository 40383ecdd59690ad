/**
 * @module test/harness/raw-client
 * Raw TCP clients for hostile-input tests: send exact bytes (no fetch normalization), collect
 * everything the gateway answers until it closes or a quiet period passes.
 */
import net from 'node:net';

export interface RawResult {
  /** Everything received, latin1-decoded. */
  data: string;
  /** The gateway closed the connection (rather than us giving up after `idleMs`). */
  closedByPeer: boolean;
  /** ms from connect to the end (close or idle). */
  ms: number;
}

/**
 * Writes `chunks` (with `gapMs` between them) and reads until the peer closes, or `idleMs`
 * passes without data after the last write, or `maxMs` passes.
 */
export function rawExchange(port: number, chunks: (string | Buffer)[] | string | Buffer,
  opts: { gapMs?: number; idleMs?: number; maxMs?: number; host?: string } = {}): Promise<RawResult> {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  const idleMs = opts.idleMs ?? 400;
  const maxMs = opts.maxMs ?? 5_000;
  return new Promise((resolve) => {
    const t0 = Date.now();
    const parts: Buffer[] = [];
    let finished = false;
    let idle: NodeJS.Timeout | null = null;
    const s = net.connect(port, opts.host ?? '127.0.0.1');
    const finish = (closedByPeer: boolean) => {
      if (finished) return;
      finished = true;
      if (idle) clearTimeout(idle);
      clearTimeout(hard);
      s.destroy();
      resolve({ data: Buffer.concat(parts).toString('latin1'), closedByPeer, ms: Date.now() - t0 });
    };
    const hard = setTimeout(() => finish(false), maxMs);
    let writesDone = false;
    const armIdle = () => {
      if (!writesDone) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => finish(false), idleMs);
    };
    s.on('data', (d) => { parts.push(d); armIdle(); });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', async () => {
      for (let i = 0; i < list.length; i++) {
        if (finished || s.destroyed) return;
        s.write(list[i]!);
        if (i < list.length - 1 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      writesDone = true;
      armIdle();
    });
  });
}

/** Status codes of every HTTP response found in `data`, in order. */
export function statuses(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
