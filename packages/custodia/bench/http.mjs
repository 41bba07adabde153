// HTTP figures: FHIR read, search and create against a running vault, each with a
// baseline measured in the same run (a bare fastify route in this process, or a raw
// durable SQLite commit).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';

const LOAD = fileURLToPath(new URL('./load.mjs', import.meta.url));
const LATENCY = fileURLToPath(new URL('./latency.mjs', import.meta.url));

async function child(script, config) {
  const proc = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += c));
  proc.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => proc.on('close', resolve));
  if (code !== 0) throw new Error(`${script} failed: ${stderr}`);
  return JSON.parse(stdout);
}

/** p50/p99 in ms (µs resolution) of sequential requests on one connection: latency without queueing. */
export function latency(config) {
  return child(LATENCY, config);
}

/** Runs the load generator in a child process; the server keeps its own event loop free. */
export async function load(config) {
  const out = await child(LOAD, config);
  if (out.non2xx > 0 || out.errors > 0) throw new Error(`load run had ${out.non2xx} non-2xx responses and ${out.errors} errors (${config.url}${config.paths?.[0] ?? ''})`);
  return out;
}

/** A bare fastify route in this process: the ceiling any fastify handler can reach here. */
export async function startHello() {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${app.server.address().port}` };
}
