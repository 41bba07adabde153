import { Command, Option } from '@commander-js/extra-typings';
import type { Server as SecureServer } from 'node:https';
import { createVault, isLoopback, loadDemoDataIfEmpty, loggerOptions, parseRateLimitSpecs, resolveConfig, sameClientLists, startTlsRenewal, type TlsMaterial } from '../app/index.js';
import { buildServer, secureContextOptions, trackConnections } from '../server/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** How often the TLS files are read again: the certificate (renewal), and the client CRLs when given (revocations take effect within this). */
const TLS_RECHECK_MS = 6 * 3600_000;
const CRL_RECHECK_MS = 5 * 60_000;

/** What a user needs to trust or pin the server's certificate. */
function tlsSummary(tls: TlsMaterial): string {
  const what = tls.selfSigned ? `self-signed for localhost, 127.0.0.1 and ::1${tls.issued === true ? ', newly issued' : ''}` : 'from --tls-cert';
  const crl = tls.clientCrl === undefined ? '' : `Revocation: client certificates are checked against --tls-client-crl (replace it before ${tls.clientCrl.nextUpdate.toISOString()}; it is read again every ${CRL_RECHECK_MS / 60_000} minutes, or at once on SIGHUP).\n`;
  const clients = tls.clientCa === undefined ? '' : `Mutual TLS: client certificates are requested and checked against --tls-client-ca.\n${crl}`;
  return `TLS certificate (${what}), valid until ${tls.notAfter.toISOString()}\nSHA-256 fingerprint: ${tls.fingerprint}\n${clients}`;
}

export function serveCommand(): Command<[], Record<string, unknown>> {
  return new Command('serve')
    .description('run the vault: FHIR R4 API at <base>/fhir, health at /healthz')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8080')
    .option('--base-url <url>', 'public base URL of the FHIR API (default http://<host>:<port>/fhir)')
    .option('--demo', 'load the bundled Synthea demo data into an empty vault', false)
    .option('--insecure-http', 'allow plain HTTP on a non-loopback address (lab use only; env CUSTODIA_INSECURE_HTTP=1)')
    .option('--tls-cert <file>', 'serve HTTPS (TLS 1.2 or later) with this PEM certificate chain (env CUSTODIA_TLS_CERT)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert, mode 0600 (env CUSTODIA_TLS_KEY)')
    .option('--tls-self-signed', 'serve HTTPS with a self-signed certificate for localhost, made and renewed under <data-dir>/keys/tls (env CUSTODIA_TLS_SELF_SIGNED=1)')
    .option('--tls-client-ca <file>', 'mutual TLS: ask clients for a certificate and accept those issued by these PEM CA certificates (env CUSTODIA_TLS_CLIENT_CA)')
    .option('--tls-client-crl <file>', 'mutual TLS: the current CRLs (PEM, or one DER) of every --tls-client-ca CA; revoked certificates authenticate nothing; read again every 5 minutes or on SIGHUP (env CUSTODIA_TLS_CLIENT_CRL)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const).default('info' as const))
    .option('--cors-origin <origin>', 'let browser apps of this exact origin call /fhir and the token endpoints (repeatable; env CUSTODIA_CORS_ORIGINS)', collect, undefined)
    .option('--trust-proxy <address>', 'a reverse proxy (IP or CIDR) whose X-Forwarded-For names the client (repeatable; env CUSTODIA_TRUSTED_PROXIES)', collect, undefined)
    .addOption(new Option('--key-provider <kind>', 'where the key-encryption keys live: the keyring file in <data-dir>/keys, or a PKCS#11 HSM (env CUSTODIA_KEY_PROVIDER)').choices(['keyring', 'pkcs11'] as const))
    .option('--pkcs11-module <path>', 'PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so (env CUSTODIA_PKCS11_MODULE; the PIN only from CUSTODIA_PKCS11_PIN)')
    .option('--pkcs11-token <label>', 'PKCS#11 token label (env CUSTODIA_PKCS11_TOKEN)')
    .option('--retention-policy <file>', 'retention rules (JSON) that refuse erasure while they apply (env CUSTODIA_RETENTION_POLICY)')
    .option('--ledger-origin <origin>', 'the audit log\'s origin, fixed when the log is created (default <host:port>/ledger; env CUSTODIA_LEDGER_ORIGIN)')
    .option('--witness <url=vkey>', "a witness to cosign the ledger's checkpoints: its submission URL (POST <url>/add-checkpoint) and its verifier key (repeatable)", collect, undefined)
    .option('--witness-quorum <n>', 'how many witnesses must cosign a checkpoint before GET /ledger/checkpoint serves it (default: all of them)')
    .option('--witness-ca <file>', 'PEM CA certificates that https witnesses must chain to, instead of the system roots (e.g. a witness\'s --tls-self-signed certificate)')
    .option('--witness-insecure-http', 'allow plain-http --witness URLs beyond loopback (a network attacker can then cut the log off from its witnesses)')
    .option('--witness-for <origin=vkey>', "act as a witness (under /witness) for another log: its origin and verifier key (repeatable; this vault's witness key is keys/witness-note.key)", collect, undefined)
    .option('--witness-name <name>', "this vault's witness name, fixed when its key is created (default <host:port>/witness)")
    .option('--body-limit <size>', 'the largest request body, e.g. 4MiB (64KiB to 1GiB; default 32MiB; env CUSTODIA_BODY_LIMIT): a resource that large costs about half a second of CPU to store per 32 MiB')
    .option('--search-timeout <seconds>', 'the longest a search may run on a SQLite database before it fails with 400 too-costly (1 to 600; default 10; env CUSTODIA_SEARCH_TIMEOUT)')
    .option('--answer-floor <ms>', 'the least time, in milliseconds, a refused FHIR request (404, 403, 4xx but 429) takes, so that timing does not tell a hidden record from a missing one (0 to 1000, 0 off; default 25; env CUSTODIA_ANSWER_FLOOR)')
    .option('--rate-limit <kind=rate/burst>', 'requests per second and burst for user, client, token, logout, authorize or unauthenticated, e.g. user=50/200 (repeatable; env CUSTODIA_RATE_LIMITS)', collect, undefined)
    .option('--detect-mqtt <url>', 'score live device telemetry from this MQTT broker, mqtts://host:port (TLS) or mqtt://host:port on loopback (env CUSTODIA_DETECT_MQTT_URL; off by default)')
    .option('--detect-mqtt-ca <file>', 'PEM CA certificates the mqtts:// broker must chain to, instead of the system roots')
    .option('--detect-mqtt-cert <file>', 'mutual TLS: the PEM client certificate the vault presents to the MQTT broker')
    .option('--detect-mqtt-key <file>', 'the PEM private key of --detect-mqtt-cert, mode 0600')
    .option('--detect-mqtt-username <name>', 'the MQTT username (the password only from env CUSTODIA_DETECT_MQTT_PASSWORD or --detect-mqtt-password-file)')
    .option('--detect-mqtt-password-file <file>', 'a file (mode 0600) holding the MQTT password on one line')
    .option('--detect-mqtt-insecure', 'allow a plain mqtt:// broker beyond loopback (telemetry, which is patient data, and the password then cross the network unencrypted)')
    .option('--detect-topic <filter>', 'the MQTT topic filter of the telemetry (default custodia/telemetry/#; env CUSTODIA_DETECT_TOPIC)')
    .option('--detect-device-level <n>', 'bind topics to devices: the topic level (a + of --detect-topic) naming the publishing Device\'s id; a record in another sender\'s name is refused and raises a finding (env CUSTODIA_DETECT_DEVICE_LEVEL)')
    .option('--detect-nats <url>', 'carry telemetry to the scorers over NATS JetStream, tls://host:port or nats://host:port on loopback (env CUSTODIA_DETECT_NATS_URL; default: in process)')
    .option('--detect-nats-ca <file>', 'PEM CA certificates the NATS server must chain to, instead of the system roots (implies TLS)')
    .option('--detect-nats-cert <file>', 'mutual TLS: the PEM client certificate the vault presents to the NATS server (implies TLS)')
    .option('--detect-nats-key <file>', 'the PEM private key of --detect-nats-cert, mode 0600')
    .option('--detect-nats-creds <file>', 'a NATS .creds file (user JWT and nkey seed), mode 0600; or a token in env CUSTODIA_DETECT_NATS_TOKEN')
    .option('--detect-nats-user <name>', 'the NATS user (the password only from env CUSTODIA_DETECT_NATS_PASSWORD)')
    .option('--detect-nats-insecure', 'allow a plain nats:// server beyond loopback (telemetry, which is patient data, and the credentials then cross the network unencrypted)')
    .option('--detect-subject <subject>', 'the JetStream subject of the telemetry (default custodia.detect.telemetry)')
    .option('--detect-scorers <n>', 'scorers in this process sharing the bus (default 1)')
    .option('--detect-silence-seconds <n>', 'how long a registered Device may send nothing before a silence finding is raised (default 300, 1-86400; env CUSTODIA_DETECT_SILENCE_SECONDS)')
    .option('--detect-keep-seconds <n>', 'how often device baselines that learned something are kept in the database, so that a restart or a moved partition does not relearn them (default 30, 1-3600; env CUSTODIA_DETECT_KEEP_SECONDS)')
    .option('--detect-partitions <n>', 'with --detect-nats: partitions of the subject by device, the most scorers of all processes that work at once (default 8; env CUSTODIA_DETECT_PARTITIONS)')
    .action(async (o) => {
      const config = resolveConfig(
        {
          dataDir: o.dataDir,
          host: o.host,
          port: o.port,
          ...(o.insecureHttp === undefined ? {} : { insecureHttp: o.insecureHttp }),
          ...(o.tlsSelfSigned === undefined ? {} : { tlsSelfSigned: o.tlsSelfSigned }),
          ...(o.tlsClientCa === undefined ? {} : { tlsClientCa: o.tlsClientCa }),
          ...(o.tlsClientCrl === undefined ? {} : { tlsClientCrl: o.tlsClientCrl }),
          logLevel: o.logLevel,
          ...(o.database === undefined ? {} : { database: o.database }),
          ...(o.schema === undefined ? {} : { postgresSchema: o.schema }),
          ...(o.baseUrl === undefined ? {} : { baseUrl: o.baseUrl }),
          ...(o.corsOrigin === undefined ? {} : { corsOrigins: o.corsOrigin }),
          ...(o.tlsCert === undefined ? {} : { tlsCert: o.tlsCert }),
          ...(o.tlsKey === undefined ? {} : { tlsKey: o.tlsKey }),
          ...(o.trustProxy === undefined ? {} : { trustedProxies: o.trustProxy }),
          ...(o.rateLimit === undefined ? {} : { rateLimits: parseRateLimitSpecs(o.rateLimit) }),
          ...(o.bodyLimit === undefined ? {} : { bodyLimitBytes: o.bodyLimit }),
          ...(o.searchTimeout === undefined ? {} : { searchTimeoutSeconds: o.searchTimeout }),
          ...(o.answerFloor === undefined ? {} : { answerFloorMs: o.answerFloor }),
          ...(o.retentionPolicy === undefined ? {} : { retentionPolicy: o.retentionPolicy }),
          ledger: {
            ...(o.ledgerOrigin === undefined ? {} : { origin: o.ledgerOrigin }),
            ...(o.witness === undefined ? {} : { witnesses: o.witness }),
            ...(o.witnessQuorum === undefined ? {} : { witnessQuorum: o.witnessQuorum }),
            ...(o.witnessCa === undefined ? {} : { witnessCa: o.witnessCa }),
            ...(o.witnessInsecureHttp === undefined ? {} : { witnessInsecureHttp: o.witnessInsecureHttp }),
            ...(o.witnessFor === undefined ? {} : { witnessFor: o.witnessFor }),
            ...(o.witnessName === undefined ? {} : { witnessName: o.witnessName }),
          },
          detectStream: {
            mqttUrl: o.detectMqtt,
            topic: o.detectTopic,
            natsUrl: o.detectNats,
            subject: o.detectSubject,
            scorers: o.detectScorers,
            partitions: o.detectPartitions,
            keepSeconds: o.detectKeepSeconds,
            deviceLevel: o.detectDeviceLevel,
            silenceSeconds: o.detectSilenceSeconds,
            mqtt: { ca: o.detectMqttCa, cert: o.detectMqttCert, key: o.detectMqttKey, username: o.detectMqttUsername, passwordFile: o.detectMqttPasswordFile, insecure: o.detectMqttInsecure },
            nats: { ca: o.detectNatsCa, cert: o.detectNatsCert, key: o.detectNatsKey, creds: o.detectNatsCreds, user: o.detectNatsUser, insecure: o.detectNatsInsecure },
          },
          encryption: {
            ...(o.keyProvider === undefined ? {} : { keyProvider: o.keyProvider }),
            ...(o.pkcs11Module === undefined ? {} : { pkcs11Module: o.pkcs11Module }),
            ...(o.pkcs11Token === undefined ? {} : { pkcs11Token: o.pkcs11Token }),
          },
        },
        process.env,
      );
      const vault = await createVault(config);
      if (o.demo) {
        const report = await loadDemoDataIfEmpty(vault);
        if (report !== undefined) process.stdout.write(`Loaded demo data: ${report.resources} resources from ${report.files} files.\n`);
      }
      const app = buildServer(vault, { logger: loggerOptions(config.logLevel) });
      // With TLS material (vault.tls), buildServer made an HTTPS server.
      const server = app.server as unknown as SecureServer;
      // Before listening, so that every connection is known when the client CRL or CAs are replaced.
      const connections = vault.tls?.clientCa === undefined ? undefined : trackConnections(server);
      const close = async (): Promise<void> => {
        await app.close();
        await vault.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void close());
      process.once('SIGTERM', () => void close());
      await app.listen({ host: config.host, port: config.port });
      if (vault.tls === undefined && !isLoopback(config.host)) {
        const warning = `Serving PLAIN HTTP on ${config.host}:${config.port} (--insecure-http): tokens and patient data cross the network unencrypted. Lab use only.`;
        app.log.warn({ host: config.host, port: config.port }, warning);
        process.stderr.write(`custodia: WARNING: ${warning}\n`);
      }
      // Checkpoints of the audit ledger: signed as entries arrive (counts only in the log).
      vault.ledger.start((e) => app.log.error({ err: e }, 'ledger sequencer failed; it retries'));
      // The detection stream: telemetry → scoring → findings; counts only in the log, never readings.
      if (vault.detectStream !== undefined && config.detectStream !== undefined) {
        const stream = vault.detectStream;
        try {
          await stream.start((e) => app.log.error({ err: e }, 'detect stream: a record could not be scored'));
        } catch (e) {
          // A broker that is unreachable, fails verification or refuses the credentials stops the start: close, then exit 2.
          await app.close();
          await vault.close();
          throw e;
        }
        const d = config.detectStream;
        // Where and how, never the credentials or the key material.
        app.log.info({ mqtt: d.mqttUrl, topic: d.topic, mqttTls: d.mqttTls !== undefined, mqttMutualTls: d.mqttTls?.cert !== undefined, mqttUser: d.mqttAuth?.username, bus: d.nats === undefined ? 'in-process' : d.nats.url, natsTls: d.nats?.tls !== undefined, natsAuth: d.nats?.auth?.kind, partitions: d.nats?.partitions, keepSeconds: d.keepSeconds, deviceLevel: d.deviceLevel, silenceSeconds: d.silenceSeconds }, 'detect stream started');
        for (const broker of d.plainTextBrokers ?? []) {
          const warning = `Device telemetry from ${broker} arrives in PLAIN TEXT (--detect-mqtt-insecure / --detect-nats-insecure): vital signs and broker credentials cross the network unencrypted. Lab use only.`;
          app.log.warn({ broker }, warning);
          process.stderr.write(`custodia: WARNING: ${warning}\n`);
        }
        setInterval(() => {
          const r = stream.report();
          app.log.info({ received: r.source.received, bad: r.source.badRecords, dropped: r.source.dropped, firstBad: r.source.firstBad.slice(0, 3), duplicates: r.duplicates, scored: r.scored, findings: r.findings, impersonations: r.impersonations, failures: r.failures, devices: r.devices.baselines, deviceClasses: r.devices.classes, baselinesRestored: r.kept.restored, baselinesKept: r.kept.saved, baselinesRefused: r.kept.refused, silentDevices: r.silence.silent, arrivalsTracked: r.arrivals.tracked, arrivalsRefused: r.arrivals.refused, ...(d.nats === undefined ? {} : { partitionsHeld: r.scorers.map((s) => s.partitions ?? []) }) }, 'detect stream');
        }, 60_000).unref();
      }
      // Witnesses: each exchange, sizes and counts only; failures never hold up a request (they are retried with backoff).
      vault.cosigning?.onReport((r) => {
        const fields = { witness: r.witness, event: r.event, size: r.size, failures: r.failures, ...(r.status === undefined ? {} : { status: r.status }) };
        if (r.event === 'cosigned' || r.event === 'conflict') app.log.debug(fields, 'witness exchange');
        else app.log.warn(fields, 'witness did not cosign; retrying with backoff');
      });
      // Data-key rotation re-seals in the background; counts only, never record contents.
      vault.keyRotation?.start(
        10_000,
        (p) => app.log.info({ resealed: p.resealed, remaining: p.remaining }, 'data-key rotation: re-sealed a batch'),
        (e) => app.log.error({ err: e }, 'data-key rotation stopped; it retries'),
      );
      // A certificate that is renewed (self-signed) or replaced on disk is taken up without a restart.
      if (vault.tls !== undefined) {
        const renewal = startTlsRenewal(config, vault.tls, {
          intervalMs: vault.tls.clientCrl === undefined ? TLS_RECHECK_MS : CRL_RECHECK_MS,
          apply: (m, before) => {
            server.setSecureContext(secureContextOptions(m));
            // Client certificates verified under other lists are not trusted on: their connections end (server/tls-connections.ts). A renewed server certificate alone changes no verdict.
            if (!sameClientLists(m, before)) connections?.retireAll();
            app.log.info({ notAfter: m.notAfter.toISOString(), fingerprint: m.fingerprint, ...(m.clientCrl === undefined ? {} : { crlNextUpdate: m.clientCrl.nextUpdate.toISOString() }) }, 'TLS material renewed (certificate, client CAs or CRLs)');
          },
          // A CRL past its nextUpdate is refused here and by OpenSSL alike: client certificates then authenticate nothing until a fresh one is in place.
          onError: (e) => app.log.error({ err: e }, 'TLS renewal failed; the current material stays'),
        });
        // SIGHUP: read the files now (a revocation that cannot wait 5 minutes). Node's default for SIGHUP is to exit.
        process.on('SIGHUP', () => void renewal.check().then((m) => app.log.info({ changed: m !== undefined }, 'SIGHUP: TLS files read again')));
      } else {
        process.on('SIGHUP', () => app.log.info('SIGHUP: no TLS files to read again (plain HTTP)'));
      }
      process.stdout.write(`Custodia is listening at ${config.fhirBaseUrl}\n`);
      if (vault.witness !== undefined) {
        process.stdout.write(`Witnessing ${vault.witness.origins.join(', ')} at ${config.fhirBaseUrl.replace(/\/fhir$/, '')}/witness as ${vault.witness.verifierKey}\n`);
      }
      if (vault.tls !== undefined) process.stdout.write(tlsSummary(vault.tls));
      process.stdout.write(`Get an operator token with: npx custodia token --data-dir ${o.dataDir}\n`);
    });
}
