/**
 * `custodia client add|disable|enable`: registers an OAuth client application, or stops
 * and restarts it. Public clients (PKCE
 * only) get no secret; clients with --jwks-file/--jwks-uri authenticate with
 * private_key_jwt (RFC 7523, SMART Backend Services); clients with --tls-subject-dn
 * authenticate with a client certificate over mutual TLS (tls_client_auth, RFC 8705
 * §2.1; the server needs --tls-client-ca); every other client gets a generated secret,
 * printed once and stored hashed.
 */
import { Command } from '@commander-js/extra-typings';
import { addClient, disableClient, enableClient } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function clientCommand(): Command<[], Record<string, unknown>> {
  const client = new Command('client').description('manage the applications that may ask for tokens').exitOverride();
  client.addCommand(
    new Command('add')
      .description('register a client application')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .requiredOption('--client-id <id>', 'OAuth client_id')
      .requiredOption('--name <name>', 'name shown to users')
      .option('--redirect-uri <uri>', 'allowed redirect URI (repeatable)', collect, [] as string[])
      .option('--public', 'a public client: no secret, PKCE only', false)
      .option('--jwks-file <file>', "file with the client's public JWKS (private_key_jwt)")
      .option('--jwks-uri <url>', "URL of the client's public JWKS (private_key_jwt)")
      .option('--tls-subject-dn <dn>', 'subject of the client\'s TLS certificate, RFC 4514 text such as "CN=lab-system,O=Hospital" (tls_client_auth)')
      .option('--scope <scopes>', 'space-separated scopes the client may be granted', '')
      .exitOverride()
      .action(async (o) => {
        const added = await addClient(storageConfig(o), {
          clientId: o.clientId,
          name: o.name,
          redirectUris: o.redirectUri,
          public: o.public,
          scope: o.scope,
          ...(o.jwksFile === undefined ? {} : { jwksFile: o.jwksFile }),
          ...(o.jwksUri === undefined ? {} : { jwksUri: o.jwksUri }),
          ...(o.tlsSubjectDn === undefined ? {} : { tlsSubjectDn: o.tlsSubjectDn }),
        });
        const c = added.client;
        process.stdout.write(`Client ${c.clientId} added: ${c.kind} (${c.tokenEndpointAuthMethod}).\n`);
        if (c.tlsSubjectDn !== undefined) process.stdout.write(`It authenticates with a client certificate, issued by a --tls-client-ca CA, whose subject is: ${c.tlsSubjectDn}\n`);
        if (added.clientSecret !== undefined) process.stdout.write(`Client secret (shown once; store it now): ${added.clientSecret}\n`);
      }),
  );
  for (const [name, description, act] of [
    ['disable', "refuse the client's authentication and end every token issued to it or through it", disableClient],
    ['enable', 'let a disabled client authenticate again', enableClient],
  ] as const) {
    client.addCommand(
      new Command(name)
        .description(description)
        .addOption(dataDirOption())
        .addOption(databaseOption())
        .addOption(schemaOption())
        .requiredOption('--client-id <id>', 'OAuth client_id')
        .exitOverride()
        .action(async (o) => {
          const c = await act(storageConfig(o), o.clientId);
          process.stdout.write(`Client ${c.clientId} ${name}d.\n`);
        }),
    );
  }
  return client as unknown as Command<[], Record<string, unknown>>;
}
