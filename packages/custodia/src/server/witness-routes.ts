/**
 * C2SP tlog-witness over HTTP: `POST <prefix>/add-checkpoint` and the monitor retrieval
 * `GET <prefix>/<origin hash>/checkpoint`. The prefix is both the submission and the
 * monitoring prefix: `/witness` in a vault (`--witness-for`), the root in
 * `custodia witness serve`.
 *
 * The body is attacker-controlled: read as bytes, whatever its Content-Type (the spec
 * names none), refused beyond 64 KiB before it is read further, and parsed strictly by
 * the app. Answers are sent exactly as the protocol prescribes (status, media type,
 * body); errors of this scope are plain text, never a 409 (which the protocol reserves
 * for "your old size is wrong") and never an OperationOutcome.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isCustodiaError, MAX_ADD_CHECKPOINT_BYTES, type WitnessService } from '../app/index.js';

const TEXT = 'text/plain; charset=utf-8';
const ORIGIN_HASH = /^[0-9a-f]{64}$/;

const plain = (reply: FastifyReply, status: number, body: string): FastifyReply => reply.code(status).header('content-type', TEXT).send(body);

/** Registers the witness endpoints under `prefix` ('' or '/witness'), in a scope of their own. */
export function registerWitnessRoutes(app: FastifyInstance, witness: WitnessService, prefix: string): void {
  void app.register(
    async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ADD_CHECKPOINT_BYTES }, (_req, body, done) => done(null, body));
      scope.setErrorHandler(async (error, req, reply) => {
        const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
        if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return plain(reply, 413, 'the body is too large\n');
        if (isCustodiaError(error, 'storage-conflict') || isCustodiaError(error, 'storage-unavailable')) return plain(reply, 503, 'busy; retry\n');
        const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number((error as { statusCode: unknown }).statusCode) : 500;
        if (status >= 400 && status < 500 && status !== 409) return plain(reply, 400, 'bad request\n');
        req.log.error({ err: error }, 'witness request failed');
        return plain(reply, 500, 'internal error\n');
      });

      scope.post('/add-checkpoint', async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const answer = await witness.addCheckpoint(body);
        req.log.info({ outcome: answer.outcome, status: answer.status }, 'add-checkpoint');
        return reply.code(answer.status).header('content-type', answer.contentType).header('cache-control', 'no-store').send(answer.body);
      });

      scope.get('/:originHash/checkpoint', async (req, reply) => {
        const hash = (req.params as Record<string, string>)['originHash'] ?? '';
        const note = ORIGIN_HASH.test(hash) ? await witness.checkpoint(hash) : undefined;
        if (note === undefined) return plain(reply, 404, 'no checkpoint cosigned for that log\n');
        return reply.code(200).header('content-type', TEXT).header('cache-control', 'no-cache').send(note);
      });
    },
    { prefix },
  );
}
