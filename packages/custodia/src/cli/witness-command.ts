/**
 * `custodia witness serve|vkey`: a C2SP tlog-witness on its own (issue 5 §3). It cosigns
 * the checkpoints of the logs named with `--log ORIGIN=VKEY` when they are consistent with
 * what it cosigned before, and keeps its key and state in `--data-dir`
 * (app/witness-node.ts).
 */
import { Command, Option } from '@commander-js/extra-typings';
import { loggerOptions, openWitnessNode, resolveWitnessNodeConfig, witnessPlainHttpWarning, witnessVerifierKey } from '../app/index.js';
import { buildWitnessServer } from '../server/index.js';

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
      .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const).default('info' as const))
      .exitOverride()
      .action(async (o) => {
        const config = resolveWitnessNodeConfig({ dataDir: o.dataDir, host: o.host, port: o.port, logLevel: o.logLevel, ...(o.log === undefined ? {} : { logs: o.log }), ...(o.name === undefined ? {} : { name: o.name }) });
        const service = openWitnessNode(config);
        const app = buildWitnessServer(service, { logger: loggerOptions(config.logLevel) });
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
        process.stdout.write(`Witness ${service.name} is listening at http://${host}:${port}\n`);
        process.stdout.write(`Verifier key: ${service.verifierKey}\n`);
        process.stdout.write(`Witnessing: ${service.origins.length === 0 ? '(no logs)' : service.origins.join(', ')}\n`);
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
