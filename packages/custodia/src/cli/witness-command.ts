/**
 * `custodia witness serve|vkey`: a C2SP tlog-witness on its own (issue 5 §3). It cosigns
 * the checkpoints of the logs named with `--log ORIGIN=VKEY` when they are consistent with
 * what it cosigned before, and keeps its key and state in `--data-dir`
 * (app/witness-node.ts).
 */
import { Command, Option } from '@commander-js/extra-typings';
import type { Server as SecureServer } from 'node:https';
import { loggerOptions, openWitnessNode, prepareWitnessTls, resolveWitnessNodeConfig, startTlsRenewal, witnessPlainHttpWarning, witnessVerifierKey } from '../app/index.js';
import { buildWitnessServer, secureContextOptions } from '../server/index.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const dataDir = () => new Option('--data-dir <dir>', "the witness's directory (its key in keys/witness-note.key, its state in witness-state.db)").default('./witness');

export function witnessCommand(): Command<[], Record<string, unknown>> {
  const witness = new Command('witness').description('a transparency-log witness (C2SP tlog-witness) that cosigns other logs\' checkpoints').exitOverride();
  witness.addCommand(
    new Command('serve')
      .description('serve POST /add-checkpoint and GET /<origin hash>/checkpoint; the key is created on first start')
      .addOption(dataDir())
      .option('--host <host>', 'address to bind', '127.0.0.1')
      .option('--port <port>', 'port to listen on', '8090')
      .option('--log <origin=vkey>', "a log to witness: its origin and a verifier key of its checkpoints (repeatable; e.g. the output of `custodia ledger vkey`)", collect, undefined)
      .option('--name <name>', "the witness's name (its key's name), fixed when the key is created (default <host>:<port>/witness)")
      .option('--tls-cert <file>', 'serve HTTPS (TLS 1.2 or later) with this PEM certificate chain, checked as for `custodia serve`')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert, mode 0600')
      .option('--tls-self-signed', 'serve HTTPS with a self-signed certificate for localhost, made and renewed under <data-dir>/keys/tls (logs pin it with --witness-ca)')
      .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const).default('info' as const))
      .exitOverride()
      .action(async (o) => {
        const config = resolveWitnessNodeConfig({
          dataDir: o.dataDir,
          host: o.host,
          port: o.port,
          logLevel: o.logLevel,
          ...(o.log === undefined ? {} : { logs: o.log }),
          ...(o.name === undefined ? {} : { name: o.name }),
          ...(o.tlsCert === undefined ? {} : { tlsCert: o.tlsCert }),
          ...(o.tlsKey === undefined ? {} : { tlsKey: o.tlsKey }),
          ...(o.tlsSelfSigned === undefined ? {} : { tlsSelfSigned: o.tlsSelfSigned }),
        });
        // First, so a TLS mistake stops the start before the key or state is opened.
        const tls = await prepareWitnessTls(config);
        const service = openWitnessNode(config);
        const app = buildWitnessServer(service, { logger: loggerOptions(config.logLevel), ...(tls === undefined ? {} : { tls }) });
        const close = async (): Promise<void> => {
          await app.close();
          service.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void close());
        process.once('SIGTERM', () => void close());
        await app.listen({ host: config.host, port: config.port });
        const warning = witnessPlainHttpWarning(config);
        if (warning !== undefined) process.stderr.write(`custodia: WARNING: ${warning}\n`);
        if (config.logs.length === 0) process.stderr.write('custodia: WARNING: no --log given: every checkpoint is refused (404) until the witness is restarted with one.\n');
        const address = app.server.address();
        const port = typeof address === 'object' && address !== null ? address.port : config.port;
        const host = config.host.includes(':') ? `[${config.host}]` : config.host;
        if (tls !== undefined) {
          // A renewed self-signed certificate, or files the operator replaced, are taken up without a restart.
          const server = app.server as unknown as SecureServer;
          const renewal = startTlsRenewal(config, tls, {
            intervalMs: 6 * 3600_000,
            apply: (m) => {
              server.setSecureContext(secureContextOptions(m));
              app.log.info({ notAfter: m.notAfter.toISOString(), fingerprint: m.fingerprint }, 'TLS certificate renewed');
            },
            onError: (e) => app.log.error({ err: e }, 'TLS certificate renewal failed; the current certificate stays'),
          });
          // SIGHUP: read a replaced certificate now (Node's default for SIGHUP is to exit).
          process.on('SIGHUP', () => void renewal.check().then((m) => app.log.info({ changed: m !== undefined }, 'SIGHUP: TLS files read again')));
        }
        process.stdout.write(`Witness ${service.name} is listening at ${tls === undefined ? 'http' : 'https'}://${host}:${port}\n`);
        process.stdout.write(`Verifier key: ${service.verifierKey}\n`);
        process.stdout.write(`Witnessing: ${service.origins.length === 0 ? '(no logs)' : service.origins.join(', ')}\n`);
        if (tls !== undefined) process.stdout.write(`TLS certificate (${tls.selfSigned ? 'self-signed for localhost, 127.0.0.1 and ::1' : 'from --tls-cert'}), valid until ${tls.notAfter.toISOString()}\nSHA-256 fingerprint: ${tls.fingerprint}\n`);
      }),
  );
  witness.addCommand(
    new Command('vkey')
      .description("print the witness's verifier key (C2SP vkey, type 0x04), for logs' --witness URL=VKEY")
      .addOption(dataDir())
      .exitOverride()
      .action((o) => {
        process.stdout.write(`${witnessVerifierKey(o.dataDir)}\n`);
      }),
  );
  return witness;
}
