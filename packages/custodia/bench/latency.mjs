#!/usr/bin/env node
// Unloaded latency: sequential requests over one keep-alive connection, timed with
// hrtime (µs resolution; autocannon rounds to whole milliseconds). Run as a child
// process. Usage: node latency.mjs <json-config>; config { url, paths[], headers, count,
// method (default GET), body }.
import http from 'node:http';

const cfg = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL(cfg.url);

function once(path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: target.hostname, port: target.port, path, agent, method: cfg.method ?? 'GET', headers: cfg.headers ?? {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(cfg.body);
  });
}

const count = cfg.count ?? 2000;
for (let i = 0; i < Math.min(200, count); i++) await once(cfg.paths[i % cfg.paths.length]);
const ms = [];
for (let i = 0; i < count; i++) ms.push(await once(cfg.paths[i % cfg.paths.length]));
ms.sort((a, b) => a - b);
const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
process.stdout.write(JSON.stringify({ p50: at(0.5), p99: at(0.99), max: ms[ms.length - 1] }));
agent.destroy();
