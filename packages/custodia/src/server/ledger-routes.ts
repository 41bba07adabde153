/**
 * `/ledger/*`: the audit log as a transparency log (issue 5 §2). Public, like a
 * Certificate Transparency log: the signed checkpoint (C2SP tlog-checkpoint), the
 * verifier key, hash tiles (C2SP tlog-tiles) and RFC 9162 proofs hold hashes only. An
 * entry's bytes are an audit record and need an administration token (app/ledger-access.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustodiaError, parseTilePath, readLedgerEntry, recordAuthnFailure, type Vault } from '../app/index.js';
import { authenticateRequest } from './verified-before-body.js';

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** A tree size or index from the query string (attacker-controlled): canonical decimal, safe integer. */
function sizeParam(req: FastifyRequest, name: string): number {
  const v = (req.query as Record<string, unknown>)[name];
  if (typeof v !== 'string' || !DECIMAL.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new CustodiaError('ledger-invalid', `The query parameter ${name} must be a non-negative decimal integer`);
  }
  return Number(v);
}

const text = (reply: FastifyReply, body: string, cache: string): FastifyReply => reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', cache).send(body);
const proof = (reply: FastifyReply, hashes: readonly Buffer[]): FastifyReply =>
  reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=3600, immutable').send(JSON.stringify({ hashes: hashes.map((h) => h.toString('base64')) }));

export function registerLedgerRoutes(app: FastifyInstance, vault: Vault): void {
  const { ledger } = vault;
  // With witnesses, the newest checkpoint a quorum of them cosigned (app/cosigned-checkpoints.ts).
  app.get('/ledger/checkpoint', async (_req, reply) => text(reply, (await ledger.publishedCheckpoint()).note, 'no-cache'));
  app.get('/ledger/vkey', async (_req, reply) => text(reply, `${ledger.verifierKey}\n`, 'public, max-age=86400'));
  app.get('/ledger/tile/*', async (req, reply) => {
    // C2SP tlog-tiles paths; the path is attacker-controlled and parsed strictly.
    const ref = parseTilePath(`tile/${(req.params as Record<string, string>)['*'] ?? ''}`);
    if (ref.kind !== 'hash') throw new CustodiaError('resource-not-found', 'Entry bundles are not published: entries are audit records (GET /ledger/entry/{index} with an administration token)');
    const bytes = await ledger.tile(ref.tile);
    const cache = ref.tile.width === 256 ? 'public, max-age=31536000, immutable' : 'public, max-age=3600, immutable';
    return reply.code(200).header('content-type', 'application/octet-stream').header('cache-control', cache).send(bytes);
  });
  app.get('/ledger/proof/inclusion', async (req, reply) => proof(reply, await ledger.inclusionProof(sizeParam(req, 'index'), sizeParam(req, 'size'))));
  app.get('/ledger/proof/consistency', async (req, reply) => proof(reply, await ledger.consistencyProof(sizeParam(req, 'from'), sizeParam(req, 'to'))));
  app.get('/ledger/entry/:index', async (req, reply) => {
    const caller = await authenticateRequest(vault, req).catch(async (e: unknown) => {
      // A failed sign-in at the audit trail is on it too, up to a rate per address; past it, 429 and nothing recorded.
      vault.rateLimiter.countRefusedToken(req.ip);
      await recordAuthnFailure(vault, e, req.ip).catch(() => undefined);
      throw e;
    });
    vault.rateLimiter.admit(caller);
    const raw = (req.params as Record<string, string>)['index'] ?? '';
    if (!DECIMAL.test(raw)) throw new CustodiaError('ledger-invalid', 'An entry index is a non-negative decimal integer');
    const bytes = await readLedgerEntry(vault.ledger, vault.audit, caller, Number(raw), req.ip);
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(bytes);
  });
}
