// A loopback HTTP receiver in its own process, so arrival times are not skewed by the test process's event loop
// (which also runs the worker and the API). Reports each request's arrival to the parent over IPC.
'use strict';
const http = require('node:http');

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const at = Date.now();
    res.writeHead(200).end('ok');
    process.send({ kind: 'request', at, path: req.url, event: req.headers['x-cloudkeep-event'] || null, delivery: req.headers['x-cloudkeep-delivery'] || null });
  });
});
server.listen(0, '127.0.0.1', () => process.send({ kind: 'listening', port: server.address().port }));
process.on('disconnect', () => process.exit(0));
