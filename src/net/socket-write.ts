/**
 * @module net/socket-write
 * One write straight to a socket's libuv handle, past its Writable stream: what `socket.write`
 * ends in, without the stream's queue, state and after-write tick around it (~3 µs of CPU for
 * the two writes of a proxied request; BENCHMARKS.md, session 9). Only for a socket whose
 * Writable holds nothing: libuv keeps writes in order and a shutdown waits for them, so a direct
 * write followed by `socket.write` or `socket.end` reaches the peer in the order it was made.
 * Node's own `stream_wrap` binding, as net.Socket uses it (`stream_base_commons`).
 */
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: unknown;
  callback: ((err: Error | null) => void) | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
}

const binding = (process as unknown as { binding(name: string): unknown }).binding('stream_wrap') as {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
};
const { WriteWrap, streamBaseState, kLastWriteWasAsync } = binding;

function writeError(status: number): Error {
  const err = new Error(`write ${getSystemErrorName(status)}`) as Error & { code: string; errno: number; syscall: string };
  err.code = getSystemErrorName(status);
  err.errno = status;
  err.syscall = 'write';
  return err;
}

function onComplete(this: WriteReq, status: number): void {
  const cb = this.callback;
  if (cb !== null) cb(status < 0 ? writeError(status) : null);
}

type InternalSocket = Socket & {
  _handle: StreamHandle | null;
  _unrefTimer(): void;
  connecting: boolean;
  _writableState: { destroyed: boolean; ending: boolean; length: number; corked: number };
};

function newRequest(): WriteReq {
  const req = new WriteWrap();
  req.handle = null;
  req.oncomplete = onComplete;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.callback = null;
  return req;
}

/**
 * Callbacks of writes the kernel took whole, run in order as one microtask after the current I/O
 * callback (`socket.write` runs them on a later tick). Not `process.nextTick`: with no tick queued,
 * Node drains microtasks natively when the callback returns instead of entering
 * processTicksAndRejections, ~1 µs a proxied request less (BENCHMARKS.md, session 17).
 */
const written: Array<((err: Error | null) => void) | null> = [];
let writtenNext = 0;
const settled = Promise.resolve();

function runWritten(): void {
  try {
    while (writtenNext < written.length) {
      const done = written[writtenNext]!;
      written[writtenNext++] = null;
      done(null);
    }
  } finally {
    // A callback that threw fails as it would on a tick; the ones after it still run.
    if (writtenNext < written.length) void settled.then(runWritten);
    else { written.length = 0; writtenNext = 0; }
  }
}

function afterWrite(done: (err: Error | null) => void): void {
  if (written.length === 0) void settled.then(runWritten);
  written.push(done);
}

/** A request object no write holds: a write the kernel took at once never hands it to libuv. */
let spare: WriteReq | null = null;

/**
 * Writes `data` (a string is latin1) unless the socket's Writable is busy, connecting, corked or
 * ended: then false, and the caller writes through `socket.write`. `done` runs once the bytes are
 * handed to the kernel (after the current callback, as `socket.write`'s callback), with the error
 * if any; a failed write also destroys the socket, as a stream write does.
 */
export function writeDirect(socket: Socket, data: Buffer | string, done: ((err: Error | null) => void) | null): boolean {
  const s = socket as InternalSocket;
  const handle = s._handle;
  // The Writable's own fields, not its getters (this runs twice a request).
  const w = s._writableState;
  if (handle === null || s.connecting || w.destroyed || w.ending || w.length !== 0 || w.corked !== 0) return false;
  const req = spare ?? newRequest();
  spare = null;
  req.handle = handle;
  req.callback = done;
  const status = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  // Socket activity keeps its inactivity timeout from firing, as a stream write does.
  s._unrefTimer();
  if (status !== 0) {
    const err = writeError(status);
    s.destroy(err);
    if (done !== null) process.nextTick(done, err);
    return true;
  }
  if (streamBaseState[kLastWriteWasAsync] !== 0) {
    // Queued in libuv: the request is libuv's until it completes, and the Buffer must live as
    // long (a string was copied).
    if (typeof data !== 'string') req.buffer = data;
    return true;
  }
  // Written whole at once: libuv never saw the request object, so the next write can use it.
  req.handle = null;
  req.callback = null;
  spare = req;
  if (done !== null) afterWrite(done);
  return true;
}
