'use strict';
// The least a real HTTP/1.1 proxy does, for bench/cpu.sh: both sides parsed by Node's own llhttp
// (as Turnpike does), each client connection paired with one keep-alive upstream connection,
// headers copied across (hop-by-hop ones dropped), the answer sent as one write. No routing,
// plugins, timeouts, pipelining or streaming: it is a yardstick, not a proxy to use.
// env: PORT (8097), UP_PORT (9000).
const net = require('node:net');
const { HTTPParser } = require('_http_common');
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);
const UP_PORT = Number(process.env.UP_PORT || 9000);
const HOST_LINE = `host: 127.0.0.1:${UP_PORT}\r\n`;
const { METHOD } = require('./llhttp-methods.js');
net.createServer((client) => {
  client.setNoDelay(true);
  const up = net.connect(UP_PORT, '127.0.0.1');
  up.setNoDelay(true);
  const req = new HTTPParser();
  req.initialize(HTTPParser.REQUEST, {});
  const res = new HTTPParser();
  res.initialize(HTTPParser.RESPONSE, {});
  let head = '';
  let body = [];
  req[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url) => {
    let h = `${METHOD[method]} ${url} HTTP/1.1\r\n${HOST_LINE}`;
    for (let i = 0; i < headers.length; i += 2) if (!HOP.has(headers[i].toLowerCase())) h += `${headers[i]}: ${headers[i + 1]}\r\n`;
    up.write(h + '\r\n', 'latin1');
    return 0;
  };
  req[HTTPParser.kOnBody] = (b) => up.write(b);
  req[HTTPParser.kOnMessageComplete] = () => {};
  res[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url, status, message) => {
    head = `HTTP/1.1 ${status} ${message}\r\n`;
    for (let i = 0; i < headers.length; i += 2) if (!HOP.has(headers[i].toLowerCase())) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    head += 'connection: keep-alive\r\n\r\n';
    return 0;
  };
  res[HTTPParser.kOnBody] = (b) => body.push(b);
  res[HTTPParser.kOnMessageComplete] = () => {
    const parts = body;
    body = [];
    client.write(parts.length ? Buffer.concat([Buffer.from(head, 'latin1'), ...parts]) : head, 'latin1');
  };
  client.on('data', (d) => { if (req.execute(d) instanceof Error) client.destroy(); });
  up.on('data', (d) => { if (res.execute(d) instanceof Error) client.destroy(); });
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
  client.on('error', () => {});
  up.on('error', () => {});
}).listen(Number(process.env.PORT || 8097), '127.0.0.1');
