/**
 * @module gateway/proxy-sockets
 * The proxy's listening sockets are bound once, by the primary, and every worker accepts on them
 * itself (nginx's model: the master binds, the workers accept).
 *
 * Why not node:cluster's sharing: its round-robin mode accepts in the primary and hands one
 * connection at a time to a worker, waiting for the worker's acknowledgement before the next,
 * so 200 connections opened together reached a busy worker over ~0.9 s (p99 at 200 connections
 * was 20-40x nginx's). Its other mode shares the socket but libuv accepts one connection per
 * event-loop turn, so a burst still drains at the loop's pace. Each worker therefore gets
 * ACCEPT_HANDLES descriptors of the same socket: every loop turn accepts up to that many.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import util from 'node:util';
import { formatListen, type ListenAddress } from './listen.ts';

/** Accepting descriptors per worker and listener (accepts per event-loop turn in a burst). */
export const ACCEPT_HANDLES = 16;

/** A bound, not yet listening TCP socket (libuv's TCP wrap, as node:cluster's primary holds it). */
export interface TcpHandle { close(cb?: () => void): void; getsockname(out: Record<string, unknown>): number }

export interface BoundProxySocket { address: ListenAddress; handle: TcpHandle }

type CreateServerHandle = (address: string, port: number, addressType: 4 | 6, fd?: number, flags?: number) => TcpHandle | number;
// Bind without listen: the primary must never accept. node:cluster's primary binds its shared
// sockets with this same function; proxy-sockets.test.ts checks it is there.
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function listenError(errno: number, host: string, port: number): Error {
  const [code, text] = util.getSystemErrorMap().get(errno) ?? ['UNKNOWN', 'unknown error'];
  return Object.assign(new Error(`listen ${code}: ${text} ${formatListen({ host, port, ssl: false })}`), { code, errno, syscall: 'listen', address: host, port });
}

/** Binds every proxy listen address; throws the first failure (e.g. EADDRINUSE) after closing the rest. */
export async function bindProxySockets(addresses: ListenAddress[]): Promise<BoundProxySocket[]> {
  const bound: BoundProxySocket[] = [];
  try {
    for (const a of addresses) {
      const ip = net.isIP(a.host) ? a.host : (await dns.lookup(a.host)).address;
      const handle = createServerHandle(ip, a.port, net.isIPv6(ip) ? 6 : 4);
      if (typeof handle === 'number') throw listenError(handle, a.host, a.port);
      const name: { port?: number } = {};
      handle.getsockname(name);
      // libuv keeps a bind's EADDRINUSE for the later listen() (and a descriptor sent to a worker
      // forgets it, so the worker would listen on a random port): an unbound socket shows it now.
      if (name.port !== a.port && a.port !== 0) {
        handle.close();
        throw listenError(-(os.constants.errno.EADDRINUSE), a.host, a.port);
      }
      bound.push({ address: { ...a, port: name.port ?? a.port }, handle });
    }
  } catch (err) {
    for (const b of bound) b.handle.close();
    throw err;
  }
  return bound;
}
