/**
 * `/detect/inventory`: the unknown talkers of the device network (app/talker-inventory.ts);
 * `/detect/devices`: what guards each device this process scores (app/device-status.ts).
 *
 *   GET /detect/inventory?_count=&after=   in key order; `next` is the `after` of the next page
 *   GET /detect/devices?_count=&after=     in device order; the same paging
 *
 * Bearer token (an administrator or privacy officer with the administration scope), the
 * caller's rate limit, JSON answers, OperationOutcome errors as everywhere else.
 */
import type { FastifyInstance } from 'fastify';
import { CustodiaError, type TalkerQuery, type Vault } from '../app/index.js';
import { apiCaller, json } from './api-caller.js';

/** The query string is attacker-controlled: every value is checked, unknown names refused. */
function listQuery(raw: Record<string, unknown>): TalkerQuery {
  for (const k of Object.keys(raw)) if (!['after', '_count'].includes(k)) throw new CustodiaError('request-malformed', `Unknown parameter ${k.slice(0, 40)}`);
  const count = raw['_count'];
  const after = raw['after'];
  if (count !== undefined && (typeof count !== 'string' || !/^\d{1,4}$/.test(count))) throw new CustodiaError('request-malformed', '_count is a whole number');
  if (after !== undefined && (typeof after !== 'string' || after.length === 0 || after.length > 128)) throw new CustodiaError('request-malformed', 'after is the `next` of a previous page');
  return { limit: count === undefined ? 100 : Number(count), ...(after === undefined ? {} : { after: after as string }) };
}

export function registerInventoryRoutes(app: FastifyInstance, vault: Vault): void {
  const caller = apiCaller(vault);
  app.get('/detect/inventory', async (req, reply) => {
    const who = await caller(req);
    const q = listQuery(req.query as Record<string, unknown>);
    const talkers = await vault.inventory.list(who, q, req.ip);
    const last = talkers.at(-1);
    return json(reply, 200, { talkers, ...(talkers.length === q.limit && last !== undefined ? { next: last.talker } : {}) });
  });
  app.get('/detect/devices', async (req, reply) => {
    const who = await caller(req);
    const q = listQuery(req.query as Record<string, unknown>);
    const { detecting, devices } = await vault.deviceStatus.list(who, q, req.ip);
    const last = devices.at(-1);
    return json(reply, 200, { detecting, devices, ...(devices.length === q.limit && last !== undefined ? { next: last.device } : {}) });
  });
}
