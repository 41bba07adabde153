/**
 * `/admin/*`: the administration API (app/admin-api.ts) over HTTP. Every route needs a
 * bearer token and counts against the caller's request rate limit; the API checks the
 * caller's role and scope. Bodies are JSON; answers are JSON,
 * and errors are OperationOutcomes like everywhere else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Vault } from '../app/index.js';
import { apiCaller, json } from './api-caller.js';

export function registerAdminRoutes(app: FastifyInstance, vault: Vault): void {
  // authenticate → rate-limit (the same per-user and per-client buckets as /fhir) → the API.
  const caller = apiCaller(vault);
  const params = (req: FastifyRequest): Record<string, string> => req.params as Record<string, string>;

  app.get('/admin/explain', async (req, reply) => json(reply, 200, await vault.admin.explain(await caller(req), req.query as Record<string, unknown>)));
  app.get('/admin/btg-reviews', async (req, reply) => json(reply, 200, await vault.admin.breakGlassReviews(await caller(req), (req.query as Record<string, unknown>)['status'])));
  app.post('/admin/btg-reviews/:id', async (req, reply) => json(reply, 200, await vault.admin.reviewBreakGlass(await caller(req), params(req)['id'] ?? '', req.body)));
  app.post('/admin/users', async (req, reply) => json(reply, 201, await vault.admin.addUser(await caller(req), req.body)));
  app.post('/admin/users/:username/disable', async (req, reply) => json(reply, 200, await vault.admin.disableUser(await caller(req), params(req)['username'] ?? '')));
  app.post('/admin/tokens/:jti/revoke', async (req, reply) => json(reply, 200, await vault.admin.revokeTokenId(await caller(req), params(req)['jti'] ?? '')));
  app.post('/admin/users/:username/reset-mfa', async (req, reply) => json(reply, 200, await vault.admin.resetMfa(await caller(req), params(req)['username'] ?? '')));
  app.get('/admin/legal-holds', async (req, reply) => json(reply, 200, await vault.admin.legalHolds(await caller(req))));
  app.put('/admin/legal-holds/:patient', async (req, reply) => json(reply, 200, await vault.admin.placeHold(await caller(req), params(req)['patient'] ?? '', req.body)));
  app.delete('/admin/legal-holds/:patient', async (req, reply) => json(reply, 200, await vault.admin.releaseHold(await caller(req), params(req)['patient'] ?? '')));
  app.get('/admin/keys', async (req, reply) => json(reply, 200, await vault.admin.keyStatus(await caller(req))));
  // A FHIR operation on the instance (R4 operations.html), answered with a Parameters resource.
  app.post('/fhir/Patient/:id/$erase', async (req, reply) => {
    const r = await vault.admin.erasePatient(await caller(req), params(req)['id'] ?? '', req.body);
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueReference: { reference: `Patient/${r.patient}` } },
        { name: 'erasedAt', valueInstant: new Date(r.erasedAt).toISOString() },
        { name: 'keysDestroyed', valueInteger: r.keys },
        { name: 'versionsErased', valueInteger: r.versions },
        { name: 'resourcesErased', valueInteger: r.resources },
        { name: 'sharedRecordsKept', valueInteger: r.sharedKept },
      ],
    };
    return reply.code(200).header('content-type', 'application/fhir+json; charset=utf-8').send(JSON.stringify(parameters));
  });
  app.put('/admin/users/:username/clearances', async (req, reply) => json(reply, 200, await vault.admin.setClearances(await caller(req), params(req)['username'] ?? '', req.body)));
}
