'use strict';
// Yardstick beside proxy-llhttp.js (same shape: one keep-alive upstream connection per client,
// headers copied across, one write each way), with heads parsed in JavaScript instead of llhttp:
// both sides (default), or only the upstream's answers with SIDES=responses (requests by llhttp).
// GET only, sized answers only: it measures what llhttp's binding costs against a JS head parser
// (BENCHMARKS.md, session 8), it is not a proxy to use. env: PORT (8096), UP_PORT (9000), SIDES.
const net = require('node:net');
const { HTTPParser } = require('_http_common');
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);
const UP_PORT = Number(process.env.UP_PORT || 9000);
const HOST_LINE = `host: 127.0.0.1:${UP_PORT}\r\n`;
const JS_REQUESTS = process.env.SIDES !== 'responses';
const { METHOD } = require('./llhttp-methods.js');
/** [first line, names, values] of a head without its blank line. */
function parseHead(s) {
  const lines = s.split('\r\n');
  const names = [], values = [];
  for (let i = 1; i < lines.length; i++) { const l = lines[i]; const c = l.indexOf(':'); names.push(l.slice(0, c)); values.push(l.slice(c + 1).trim()); }
  return [lines[0], names, values];
}
net.createServer((client) => {
  client.setNoDelay(true);
  const up = net.connect(UP_PORT, '127.0.0.1');
  up.setNoDelay(true);
  let cbuf = null, ubuf = null, head = '', need = -1, body = [];
  const forward = (method, url, names, values) => {
    let h = `${method} ${url} HTTP/1.1\r\n${HOST_LINE}`;
    for (let i = 0; i < names.length; i++) if (!HOP.has(names[i].toLowerCase())) h += `${names[i]}: ${values[i]}\r\n`;
    up.write(h + '\r\n', 'latin1');
  };
  if (JS_REQUESTS) {
    client.on('data', (d) => {
      cbuf = cbuf ? Buffer.concat([cbuf, d]) : d;
      for (;;) {
        const e = cbuf.indexOf('\r\n\r\n');
        if (e === -1) return;
        const [line, names, values] = parseHead(cbuf.latin1Slice(0, e));
        const sp = line.indexOf(' '), sp2 = line.lastIndexOf(' ');
        forward(line.slice(0, sp), line.slice(sp + 1, sp2), names, values);
        cbuf = e + 4 === cbuf.length ? null : cbuf.subarray(e + 4);
        if (!cbuf) return;
      }
    });
  } else {
    const req = new HTTPParser();
    req.initialize(HTTPParser.REQUEST, {});
    req[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url) => {
      const names = [], values = [];
      for (let i = 0; i < headers.length; i += 2) { names.push(headers[i]); values.push(headers[i + 1]); }
      forward(METHOD[method], url, names, values);
      return 0;
    };
    req[HTTPParser.kOnMessageComplete] = () => {};
    client.on('data', (d) => { if (req.execute(d) instanceof Error) client.destroy(); });
  }
  up.on('data', (d) => {
    ubuf = ubuf ? Buffer.concat([ubuf, d]) : d;
    for (;;) {
      if (need < 0) {
        const e = ubuf.indexOf('\r\n\r\n');
        if (e === -1) return;
        const [line, names, values] = parseHead(ubuf.latin1Slice(0, e));
        head = `${line}\r\n`; need = 0;
        for (let i = 0; i < names.length; i++) {
          const n = names[i].toLowerCase();
          if (n === 'content-length') need = Number(values[i]);
          if (!HOP.has(n)) head += `${names[i]}: ${values[i]}\r\n`;
        }
        head += 'connection: keep-alive\r\n\r\n';
        ubuf = ubuf.subarray(e + 4);
      }
      const take = Math.min(need, ubuf.length);
      if (take) { body.push(ubuf.subarray(0, take)); need -= take; ubuf = ubuf.subarray(take); }
      if (need > 0) return;
      const parts = body; body = []; need = -1;
      client.write(parts.length ? Buffer.concat([Buffer.from(head, 'latin1'), ...parts]) : head, 'latin1');
      if (ubuf.length === 0) { ubuf = null; return; }
    }
  });
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
  client.on('error', () => {});
  up.on('error', () => {});
}).listen(Number(process.env.PORT || 8096), '127.0.0.1');
