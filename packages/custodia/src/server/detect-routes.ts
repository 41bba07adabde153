/**
 * `/detect/findings`: the security staff's view of detection findings (app/finding-service.ts).
 *
 *   GET   /detect/findings?status=&severity=&device=&since=&_count=&after=   newest first;
 *         `next` is the `after` of the next page (an opaque cursor)
 *   GET   /detect/findings/{id}
 *   PATCH /detect/findings/{id}   {"status": "triaged" | "false-positive" | "confirmed", "note": "…"}
 *
 * Bearer token (an administrator or privacy officer with the administration scope), the
 * caller's rate limit, JSON answers, OperationOutcome errors as everywhere else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CustodiaError, isFindingStatus, isSeverity, type FindingQuery, type Vault } from '../app/index.js';
import { apiCaller, json } from './api-caller.js';

const INSTANT_MS = /^\d{1,15}$/;
/** A page cursor: the last finding's last-seen time and id. */
const CURSOR = /^(\d{1,15})~([A-Za-z0-9-]{1,64})$/;

/** The query string is attacker-controlled: every value is checked, unknown names refused. */
function listQuery(raw: Record<string, unknown>): FindingQuery {
  const one = (name: string): string | undefined => {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new CustodiaError('request-malformed', `${name} is given once, as text of at most 256 characters`);
    return v;
  };
  for (const k of Object.keys(raw)) if (!['status', 'severity', 'device', 'since', 'after', '_count'].includes(k)) throw new CustodiaError('request-malformed', `Unknown parameter ${k.slice(0, 40)}`);
  const instant = (name: string): number | undefined => {
    const v = one(name);
    if (v === undefined) return undefined;
    const ms = INSTANT_MS.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isSafeInteger(ms)) throw new CustodiaError('request-malformed', `${name} is an instant (ISO 8601 or epoch milliseconds)`);
    return ms;
  };
  const status = one('status');
  if (status !== undefined && !isFindingStatus(status)) throw new CustodiaError('request-malformed', 'status is one of new, triaged, false-positive, confirmed');
  const severity = one('severity');
  if (severity !== undefined && !isSeverity(severity)) throw new CustodiaError('request-malformed', 'severity is one of low, medium, high, critical');
  const count = one('_count');
  const limit = count === undefined ? 100 : Number(count);
  if (!Number.isSafeInteger(limit)) throw new CustodiaError('request-malformed', '_count is a whole number');
  const device = one('device');
  const since = instant('since');
  const cursor = one('after');
  const m = cursor === undefined ? null : CURSOR.exec(cursor);
  if (cursor !== undefined && m === null) throw new CustodiaError('request-malformed', 'after is the `next` of a previous page');
  const after = m === null ? undefined : { lastSeen: Number(m[1]), id: m[2]! };
  return { ...(status === undefined ? {} : { status }), ...(severity === undefined ? {} : { severity }), ...(device === undefined ? {} : { device }), ...(since === undefined ? {} : { since }), ...(after === undefined ? {} : { after }), limit };
}

export function registerDetectRoutes(app: FastifyInstance, vault: Vault): void {
  const caller = apiCaller(vault);
  const id = (req: FastifyRequest): string => (req.params as Record<string, string>)['id'] ?? '';

  app.get('/detect/findings', async (req, reply) => {
    const who = await caller(req);
    const q = listQuery(req.query as Record<string, unknown>);
    const findings = await vault.findings.list(who, q, req.ip);
    const last = findings.at(-1);
    return json(reply, 200, { findings, ...(findings.length === q.limit && last !== undefined ? { next: `${last.lastSeen}~${last.id}` } : {}) });
  });
  app.get('/detect/findings/:id', async (req, reply) => json(reply, 200, await vault.findings.get(await caller(req), id(req), req.ip)));
  app.patch('/detect/findings/:id', async (req, reply) => {
    const who = await caller(req);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CustodiaError('request-malformed', 'The body is a JSON object: {"status": …, "note": …}');
    const { status, note, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new CustodiaError('request-malformed', 'The body has only status and note');
    return json(reply, 200, await vault.findings.decide(who, id(req), status, note, req.ip));
  });
}
