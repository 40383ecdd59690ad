'use strict';
// llhttp's method numbers for the yardstick proxies, read off the parser (they are not the
// positions in `methods`).
const { HTTPParser, methods } = require('_http_common');
const METHOD = [];
for (const m of methods) {
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {});
  p[HTTPParser.kOnHeadersComplete] = (_a, _b, _h, n) => { METHOD[n] = m; return 1; };
  p.execute(Buffer.from(`${m} / HTTP/1.1\r\nhost: x\r\n\r\n`));
}
module.exports = { METHOD };
