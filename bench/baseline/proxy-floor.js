'use strict';
// The floor of a Node proxy, not a proxy: each read from a client is taken to be one whole GET and
// answered by writing one fixed request head upstream; upstream bytes go back to the client as
// read. No parsing, no routing, no headers. It measures what libuv's reads and writes cost alone
// (bench/cpu.sh). env: PORT (8099), UP_PORT (9000).
const net = require('node:net');
const HEAD = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
net.createServer((client) => {
  const up = net.connect(Number(process.env.UP_PORT || 9000), '127.0.0.1');
  client.setNoDelay(true);
  up.setNoDelay(true);
  client.on('data', () => up.write(HEAD));
  up.on('data', (d) => client.write(d));
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
  client.on('error', () => {});
  up.on('error', () => {});
}).listen(Number(process.env.PORT || 8099), '127.0.0.1');
