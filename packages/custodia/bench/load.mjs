#!/usr/bin/env node
// Load generator for `npm run bench`, run as a child process so that it does not share
// the server's event loop. Usage: node load.mjs <json-config>; prints autocannon's
// summary as JSON. Config: { url, paths[], method, body, headers, connections, duration }.
import autocannon from 'autocannon';

const cfg = JSON.parse(process.argv[2]);
let i = 0;
const result = await autocannon({
  url: cfg.url,
  connections: cfg.connections ?? 10,
  duration: cfg.duration ?? 10,
  headers: cfg.headers ?? {},
  requests: [
    {
      method: cfg.method ?? 'GET',
      ...(cfg.body === undefined ? {} : { body: cfg.body }),
      setupRequest: (req) => {
        if (cfg.paths !== undefined) req.path = cfg.paths[i++ % cfg.paths.length];
        return req;
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
