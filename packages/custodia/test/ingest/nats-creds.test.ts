/**
 * NATS .creds authentication (issue 6; docs/operations.md "--detect-nats-creds"), live:
 * a nats-server of our own in operator (JWT) mode — it trusts one operator, knows one
 * account (JetStream enabled) from a preloaded MEMORY resolver — and identities made
 * fresh by @nats-io/nkeys and @nats-io/jwt, as `nsc` would. The .creds files go through
 * the vault's config (file read, owner-only, both blocks present) to the JetStream bus,
 * as `custodia serve --detect-nats-creds FILE` does.
 *
 *   - a user of the trusted account: connected, telemetry published and consumed, each record once;
 *   - a user whose JWT an account of another operator signed: refused, `stream-unavailable`;
 *   - a user JWT with the seed of another user (the nonce signature does not match): refused;
 *   - a user of an account with no connection left: given up on at the connect deadline, not the library's 20 s.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/app/index.js';
import type { TelemetryRecord } from '../../src/detect/index.js';
import { NatsTelemetryBus, parseTelemetryMessage } from '../../src/ingest/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';
import { freePort } from '../helpers/free-port.js';
import { makeAccount, makeOperator, makeUser, writeCreds, type NatsUser } from '../helpers/nats-identities.js';
import { unavailable } from '../helpers/stream-unavailable.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { NATS_SERVER, startNatsOperatorServer, type Broker } from '../helpers/tls-brokers.js';

const N = 5;
const ACK_WAIT_MS = 1_000;
const skipped = NATS_SERVER === undefined ? ': skipped, nats-server not found' : '';

const flows = (): TelemetryRecord[] => {
  const rand = jitter(11);
  return Array.from({ length: N }, (_, i) =>
    parseTelemetryMessage(encode(normalMessage({ mac: '02:00:00:00:08:01', addr: '10.0.8.1' }, rand, { FlowId: `creds-flow-${i}`, ts: Date.now() + i })), { position: { topic: 't', sequence: i + 1 }, fallbackId: 'x', receivedMs: Date.now() }),
  );
};

describe.skipIf(NATS_URL === undefined || NATS_SERVER === undefined)(natsSuite(`the NATS bus with a .creds file against nats-server in operator mode (own nats-server${skipped})`), () => {
  let dir: string;
  let server: Broker;
  let port: number;
  let user: NatsUser;
  let stranger: NatsUser;
  let otherUser: NatsUser;
  let fullUser: NatsUser;

  /** Whether the server's (debug) log, after its first `from` characters, gives `reason`: the refusal was for that cause, not another. */
  const serverLogged = async (from: number, reason: string): Promise<boolean> => {
    const end = Date.now() + 5_000;
    while (!server.output().slice(from).includes(reason) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    return server.output().slice(from).includes(reason);
  };

  /** The bus's options as `custodia serve` resolves them from `--detect-nats-creds FILE`. */
  const optionsOf = (creds: string) => {
    const c = resolveConfig({ dataDir: dir, detectStream: { mqttUrl: 'mqtt://127.0.0.1:1883', natsUrl: `nats://127.0.0.1:${port}`, subject: 'custodia.creds.telemetry', nats: { creds } } }, {}).detectStream!.nats!;
    return { ...c, clock: systemClock, ackWaitMs: ACK_WAIT_MS };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-nats-creds-'));
    const operator = await makeOperator('custodia-test-operator');
    const account = await makeAccount('telemetry', operator);
    user = await makeUser('vault', account);
    otherUser = await makeUser('another', account);
    // An account the server has never heard of, under an operator it does not trust.
    stranger = await makeUser('stranger', await makeAccount('elsewhere', await makeOperator('another-operator')));
    // A trusted account with no client connection left (its limit is 0).
    const full = await makeAccount('full', operator, 0);
    fullUser = await makeUser('no-room', full);
    port = await freePort();
    server = await startNatsOperatorServer(dir, { port, operatorJwt: operator.jwt, systemAccount: operator.system.id, accounts: { [operator.system.id]: operator.system.jwt, [account.id]: account.jwt, [full.id]: full.jwt } });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the user .creds, and carries each published record to the consumer once', async () => {
    const creds = writeCreds(join(dir, 'vault.creds'), user);
    // The layout `nsc generate creds` writes, owner-only.
    expect(readFileSync(creds, 'utf8')).toMatch(/^-----BEGIN NATS USER JWT-----\n[\w-]+\.[\w-]+\.[\w-]+\n------END NATS USER JWT------\n[^]*\n-----BEGIN USER NKEY SEED-----\nSU[A-Z2-7]+\n------END USER NKEY SEED------\n$/);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    const options = optionsOf(creds);
    expect(options.auth?.kind).toBe('creds');
    expect(JSON.stringify(options)).not.toContain(new TextDecoder().decode(user.key.getSeed())); // the resolved secret prints as [redacted]
    const bus = await NatsTelemetryBus.open(options);
    const got: string[] = [];
    const consumer = await bus.consume(async (r) => void got.push(r.id));
    try {
      const sent = flows();
      for (const f of sent) await bus.publish(f);
      const end = Date.now() + 10_000;
      while (got.length < N && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, ACK_WAIT_MS + 500)); // past AckWait: a duplicate or a redelivery would arrive now
      expect(got.toSorted(), JSON.stringify(consumer.report())).toEqual(sent.map((f) => f.id).toSorted());
      expect(consumer.report()).toMatchObject({ received: N, records: N, badRecords: 0 });
    } finally {
      await consumer.stop();
      await bus.close();
    }
  }, 30_000);

  it('is refused with a user JWT signed by an account the server does not trust: stream-unavailable, no hang, no secret', async () => {
    const [started, logged] = [Date.now(), server.output().length];
    const message = await unavailable(NatsTelemetryBus.open(optionsOf(writeCreds(join(dir, 'stranger.creds'), stranger))));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(message).toMatch(/^The NATS server cannot be reached or refused the connection: .*authorization violation/i);
    expect(message).not.toContain(new TextDecoder().decode(stranger.key.getSeed()));
    expect(message).not.toContain(stranger.jwt);
    expect(await serverLogged(logged, 'Account JWT lookup error: account missing'), server.output().slice(logged)).toBe(true);
  }, 20_000);

  it('gives up within the connect deadline, pointing at the server log, when the account has no connection left', async () => {
    // The server refuses with `-ERR 'maximum account active connections exceeded'`, which the client does not report (nats-io/nats.js#292): it only times out.
    const [started, logged] = [Date.now(), server.output().length];
    const message = await unavailable(NatsTelemetryBus.open({ ...optionsOf(writeCreds(join(dir, 'no-room.creds'), fullUser)), connectTimeoutMs: 2_000 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(message).toMatch(/^The NATS server did not complete the connection within 2 s: .*connection limit.*the server's log says why/);
    expect(await serverLogged(logged, 'maximum account active connections exceeded'), server.output().slice(logged)).toBe(true);
  }, 30_000);

  it('is refused when the seed is not the key of the JWT\'s user (the nonce signature does not verify)', async () => {
    const [started, logged] = [Date.now(), server.output().length];
    const message = await unavailable(NatsTelemetryBus.open(optionsOf(writeCreds(join(dir, 'mismatched.creds'), user, otherUser.key))));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(message).toMatch(/^The NATS server cannot be reached or refused the connection: .*authorization violation/i);
    expect(message).not.toContain(new TextDecoder().decode(otherUser.key.getSeed()));
    expect(await serverLogged(logged, 'Signature not verified'), server.output().slice(logged)).toBe(true);
  }, 20_000);
});
