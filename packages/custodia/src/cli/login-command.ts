/**
 * `custodia login`: sign in as a person, in a browser, and get a SMART access token for
 * scripts and curl. It is an ordinary public OAuth client of the vault (smart-login.ts),
 * so the sign-in goes through the same password, second factor, consent and patient
 * choice as any app; unlike `custodia token` it needs no access to the data directory.
 * The token goes to stdout, everything else to stderr.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { CustodiaError } from '../app/index.js';
import { parseDuration } from './durations.js';
import { smartLogin } from './smart-login.js';

export function loginCommand(): Command<[], Record<string, unknown>> {
  return new Command('login')
    .description('sign in through the browser (SMART standalone launch) and print an access token')
    .addOption(new Option('--fhir-url <url>', 'FHIR base URL of the vault').default('http://127.0.0.1:8080/fhir').env('CUSTODIA_FHIR_URL'))
    .option('--client-id <id>', 'a public client registered with a loopback redirect URI (custodia client add --public --redirect-uri http://127.0.0.1/callback)', 'custodia-cli')
    .option('--scope <scopes>', 'SMART scopes to ask for', 'openid fhirUser user/*.cruds')
    .option('--port <port>', 'loopback port for the redirect (default: a free one)', '0')
    .option('--timeout <duration>', 'how long to wait for the sign-in', '5m')
    .option('--json', 'print the whole token response (scope, patient, expiry) as JSON', false)
    .exitOverride()
    .action(async (o) => {
      const timeout = parseDuration(o.timeout);
      if (timeout === undefined || timeout < 1) throw new CustodiaError('request-malformed', '--timeout must be a duration such as 90s or 5m');
      const port = /^\d{1,5}$/.test(o.port) ? Number(o.port) : Number.NaN;
      if (!(port >= 0 && port <= 65535)) throw new CustodiaError('request-malformed', '--port must be an integer from 0 to 65535');
      let fhirUrl: string;
      try {
        fhirUrl = new URL(o.fhirUrl).href.replace(/\/+$/, '');
      } catch {
        throw new CustodiaError('request-malformed', '--fhir-url must be an absolute URL');
      }
      const result = await smartLogin({
        fhirUrl,
        clientId: o.clientId,
        scope: o.scope,
        port,
        timeoutMs: timeout * 1000,
        onAuthorizationUrl: (url) => process.stderr.write(`Open this address in your browser to sign in:\n\n  ${url}\n\nWaiting for the sign-in…\n`),
      });
      process.stderr.write(`Signed in. Scope: ${result.scope}${result.patient === undefined ? '' : `; patient: ${result.patient}`}${result.expiresIn === undefined ? '' : `; expires in ${result.expiresIn} s`}.\n`);
      process.stdout.write(o.json ? `${JSON.stringify({ access_token: result.accessToken, scope: result.scope, patient: result.patient, expires_in: result.expiresIn })}\n` : `${result.accessToken}\n`);
    }) as unknown as Command<[], Record<string, unknown>>;
}
