import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { writeDirect } from './socket-write.ts';

async function pair(): Promise<{ client: net.Socket; peer: net.Socket; close(): void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  return { client, peer, close: () => { client.destroy(); peer.destroy(); server.close(); } };
}

function collect(s: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

test('a direct write reaches the peer and reports on a later tick', async () => {
  const { client, peer, close } = await pair();
  try {
    const got = collect(peer);
    let reported: Error | null | undefined;
    let sync = true;
    assert.equal(writeDirect(client, 'GET / HTTP/1.1\r\n\r\n', (err) => { reported = err; assert.equal(sync, false); }), true);
    sync = false;
    assert.equal(reported, undefined);
    assert.equal(writeDirect(client, Buffer.from('é-bytes'), null), true);
    client.end();
    await once(peer, 'end');
    assert.equal(reported, null);
    assert.equal(got().toString('latin1'), 'GET / HTTP/1.1\r\n\r\n' + Buffer.from('é-bytes').toString('latin1'));
  } finally { close(); }
});

test('a socket whose Writable is busy, corked, connecting or ended is left to socket.write', async () => {
  const { client, close } = await pair();
  try {
    client.cork();
    assert.equal(writeDirect(client, 'x', null), false);
    client.uncork();
    const connecting = net.connect(1, '127.0.0.1');
    connecting.on('error', () => {});
    assert.equal(writeDirect(connecting, 'x', null), false);
    connecting.destroy();
    client.end();
    assert.equal(writeDirect(client, 'x', null), false);
  } finally { close(); }
});

test('a write the kernel cannot take at once completes later, and later writes follow it in order', async () => {
  const { client, peer, close } = await pair();
  try {
    peer.pause();
    const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
    let done: Error | null | undefined;
    assert.equal(writeDirect(client, big, (err) => { done = err; }), true);
    // Queued in libuv, not in the Writable: a stream write after it goes out after it.
    client.write('tail');
    client.end();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, undefined, 'not complete while the peer reads nothing');
    const got = collect(peer);
    peer.resume();
    await once(peer, 'end');
    assert.equal(done, null);
    const all = got();
    assert.equal(all.length, big.length + 4);
    assert.equal(all.subarray(big.length).toString(), 'tail');
    assert.equal(all.indexOf(0x74), big.length);
  } finally { close(); }
});

test('many writes in a row, one of them queued in libuv, arrive whole and in order', async () => {
  const { client, peer, close } = await pair();
  try {
    const got = collect(peer);
    const expected: Buffer[] = [];
    const completions: (Error | null)[] = [];
    const write = (data: Buffer | string) => {
      assert.equal(writeDirect(client, data, (err) => completions.push(err)), true);
      expected.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    };
    for (let i = 0; i < 50; i++) write(i % 2 ? `line ${i}\r\n` : Buffer.from(`buffer ${i}\r\n`));
    // The kernel cannot take this at once: libuv keeps the request until it is written.
    peer.pause();
    write(Buffer.alloc(8 * 1024 * 1024, 0x62));
    // While it is queued the Writable is empty, so these go straight after it in libuv's queue.
    for (let i = 50; i < 60; i++) write(`after ${i}\r\n`);
    peer.resume();
    await new Promise<void>((resolve) => { const check = () => completions.length === 61 ? resolve() : setTimeout(check, 10); check(); });
    for (let i = 60; i < 70; i++) write(`later ${i}\r\n`);
    client.end();
    await once(peer, 'end');
    assert.deepEqual(completions, new Array(71).fill(null));
    assert.equal(Buffer.compare(got(), Buffer.concat(expected)), 0);
  } finally { close(); }
});

test('a failed write destroys the socket and reports the error', async () => {
  const { client, peer, close } = await pair();
  try {
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    // Not reading (at the handle: pause() alone keeps libuv reading): the write meets the reset.
    (client as unknown as { _handle: { readStop(): number } })._handle.readStop();
    peer.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    let reported: (Error & { code?: string }) | null | undefined;
    assert.equal(writeDirect(client, 'x', (err) => { reported = err; }), true);
    assert.equal(client.destroyed, true);
    await new Promise((r) => client.once('close', r));
    assert.ok(reported, 'the callback gets the error');
    assert.match(reported.code ?? '', /^(EPIPE|ECONNRESET)$/);
    assert.equal(errors[0], reported);
  } finally { close(); }
});

test('callbacks of writes taken at once run in write order after the current callback', async () => {
  const { client, peer, close } = await pair();
  try {
    const got = collect(peer);
    const order: string[] = [];
    // From inside an I/O callback, as the proxy writes: a tick queued before the writes runs first.
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        process.nextTick(() => order.push('tick'));
        for (let i = 0; i < 3; i++) {
          assert.equal(writeDirect(client, `w${i};`, () => {
            order.push(`done ${i}`);
            // A write made by a callback reports in the same round, after the ones queued before it.
            if (i === 0) writeDirect(client, 'w3;', () => order.push('done 3'));
          }), true);
        }
        order.push('returned');
        setImmediate(resolve);
      });
    });
    assert.deepEqual(order, ['returned', 'tick', 'done 0', 'done 1', 'done 2', 'done 3']);
    client.end();
    await once(peer, 'end');
    assert.equal(got().toString(), 'w0;w1;w2;w3;');
  } finally { close(); }
});

test('a write callback that throws surfaces as an unhandled rejection (fatal without a handler), and the callbacks after it still run', async () => {
  // In a child process: the test runner takes any unhandled error in its own process as a failure.
  const code = `
    import net from 'node:net';
    import { once } from 'node:events';
    import { writeDirect } from ${JSON.stringify(new URL('./socket-write.ts', import.meta.url).href)};
    const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect(server.address().port, '127.0.0.1');
    await once(client, 'connect');
    const order = [];
    process.on('unhandledRejection', (e) => order.push('unhandled ' + e.message));
    writeDirect(client, 'a', () => { order.push('done 0'); throw new Error('callback failed'); });
    writeDirect(client, 'b', () => order.push('done 1'));
    setTimeout(() => { console.log(JSON.stringify(order)); process.exit(0); }, 50);
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), ['done 0', 'done 1', 'unhandled callback failed']);
});
