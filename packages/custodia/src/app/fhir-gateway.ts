/**
 * The security pipeline every FHIR request goes through, in the order the architecture
 * fixes: authenticate → parse → authorize → execute. (Audit joins after execute with
 * the ledger issue.) Only `GET metadata` is answered without a token, as SMART requires.
 */
import { createHash } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { authorize, type Principal, type TokenService } from '../access/index.js';
import { executeInteraction, parseInteraction, SEE_ALL, type FhirContext, type FhirResult, type RequestOptions } from '../fhir/index.js';

export interface FhirHttpRequest {
  readonly method: string;
  /** Path below the FHIR base without leading slash or query. */
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly formParams?: ReadonlyArray<readonly [string, string]>;
  readonly authorization?: string;
  readonly ifMatch?: string;
  readonly ifNoneExist?: string;
  readonly prefer?: string;
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`. The header is attacker-controlled. */
export async function authenticate(tokens: TokenService, header: string | undefined): Promise<Principal> {
  if (header === undefined || header === '') throw new CustodiaError('unauthenticated', 'This endpoint needs a bearer token (Authorization: Bearer …)');
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (m === null) throw new CustodiaError('token-invalid', 'The Authorization header must be "Bearer <token>"');
  return tokens.verify(m[1]!);
}

/** Prefer (RFC 7240; R4 http.html §3.1.0.1.8 and search.html §3.1.1.3.2). */
export function parsePrefer(header: string | undefined): Pick<RequestOptions, 'returnPreference' | 'handling'> {
  let returnPreference: RequestOptions['returnPreference'];
  let handling: RequestOptions['handling'] = 'lenient';
  for (const part of (header ?? '').split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) returnPreference = v;
    if (k === 'handling' && (v === 'strict' || v === 'lenient')) handling = v;
  }
  return { returnPreference, handling };
}

/** Paging links belong to the identity that ran the search, not to one token. */
function ownerOf(p: Principal): string {
  return createHash('sha256').update(`${p.issuer}\u0000${p.subject}`).digest('base64url');
}

export async function handleFhirRequest(ctx: FhirContext, tokens: TokenService, req: FhirHttpRequest): Promise<FhirResult> {
  const isMetadata = req.path === 'metadata' && (req.method === 'GET' || req.method === 'HEAD');
  const principal = isMetadata ? undefined : await authenticate(tokens, req.authorization);
  const interaction = parseInteraction({
    method: req.method,
    path: req.path,
    query: req.query,
    body: req.body,
    ...(req.formParams === undefined ? {} : { formParams: req.formParams }),
    ...(req.ifMatch === undefined ? {} : { ifMatch: req.ifMatch }),
    ...(req.ifNoneExist === undefined ? {} : { ifNoneExist: req.ifNoneExist }),
  });
  const options: RequestOptions = { ...parsePrefer(req.prefer), owner: principal === undefined ? 'anonymous' : ownerOf(principal), visibility: SEE_ALL };
  const types = ctx.validator.resourceTypes;
  return executeInteraction(ctx, interaction, options, (i) => {
    if (principal === undefined) {
      if (i.kind !== 'capabilities') throw new CustodiaError('unauthenticated', 'This endpoint needs a bearer token');
      return;
    }
    authorize(principal, i, types);
  });
}
