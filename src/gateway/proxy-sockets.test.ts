import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { bindProxySockets } from './proxy-sockets.ts';

test('bindProxySockets binds without listening: the port is reserved, connections are refused until a worker listens', async () => {
  const [bound] = await bindProxySockets([{ host: '127.0.0.1', port: 0, ssl: false }]);
  try {
    assert.ok(bound!.address.port > 0, 'port 0 resolves to the bound port');
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(bound!.address.port, '127.0.0.1', () => { s.destroy(); resolve('connected'); });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  } finally {
    bound!.handle.close();
  }
});

test('bindProxySockets: a port another process listens on fails with listen EADDRINUSE and releases what it bound', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const freePort = (free.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  try {
    await assert.rejects(
      bindProxySockets([{ host: '127.0.0.1', port: freePort, ssl: false }, { host: '127.0.0.1', port, ssl: false }]),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE' && err.syscall === 'listen'
        && err.message === `listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
    );
    // The first address was released: it can be listened on again.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(freePort, '127.0.0.1', resolve); });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  } finally {
    taken.close();
  }
});
