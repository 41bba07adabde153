/**
 * EHR launch contexts (SMART App Launch 2.x app-launch.html §2.0.4 "EHR launch": the EHR
 * opens the app with an opaque `launch` id that the authorization server turns back
 * into a patient and encounter). `POST /oauth/launch`, with an operator's or a
 * clinician's bearer token, creates one bound to a patient (and optionally an
 * encounter) for a few minutes; when a user created it, only that user can sign in with
 * it. The launch id is a 256-bit random value, stored as its SHA-256.
 */
import { requireBoundCertificate, type ClientCertificate } from '../client-certificate.js';
import type { Clock, Random } from '../../kernel/index.js';
import { isCustodiaError } from '../../kernel/index.js';
import type { Principal } from '../principal.js';
import type { TokenService } from '../token-service.js';
import { jsonResponse, oauthErrorResponse, type OAuthHttpResponse } from './http-response.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthStore } from './oauth-store.js';
import type { OAuthLifetimes } from './oauth-settings.js';
import type { PatientDirectory } from './patient-directory.js';
import { randomHandle, sha256 } from './secrets.js';

const ID = /^[A-Za-z0-9.-]{1,64}$/;

/** `123` or `Patient/123` (attacker input) → `123`. */
function idOf(value: unknown, type: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.startsWith(`${type}/`) ? value.slice(type.length + 1) : value;
  return ID.test(id) ? id : undefined;
}

export class LaunchService {
  constructor(
    private readonly tokens: TokenService,
    private readonly store: OAuthStore,
    private readonly patients: PatientDirectory,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly lifetimes: OAuthLifetimes,
  ) {}

  /** `certificate`: the connection's verified client certificate, for a certificate-bound token (RFC 8705 §3). */
  async create(authorization: string | undefined, body: unknown, certificate?: ClientCertificate): Promise<OAuthHttpResponse> {
    try {
      const principal = await this.#caller(authorization, certificate);
      if (!(principal.kind === 'operator' || (principal.kind === 'user' && principal.role === 'clinician'))) {
        throw new OAuthError('insufficient_scope', 'Only an operator or a clinician can open an EHR launch');
      }
      const fields = body instanceof URLSearchParams ? Object.fromEntries(body) : typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      const patient = idOf(fields['patient'], 'Patient');
      const encounter = fields['encounter'] === undefined ? undefined : idOf(fields['encounter'], 'Encounter');
      if (patient === undefined || (fields['encounter'] !== undefined && encounter === undefined)) {
        throw new OAuthError('invalid_request', 'Give the patient (and optionally the encounter) as FHIR ids');
      }
      if (!(await this.patients.canLaunch(patient, principal))) throw new OAuthError('invalid_request', 'No such patient');
      const now = this.clock.now();
      const launch = randomHandle(this.random);
      await this.store.insertLaunch({
        idHash: sha256(launch),
        patient,
        ...(encounter === undefined ? {} : { encounter }),
        createdBy: principal.subject,
        ...(principal.kind === 'user' ? { boundUser: principal.subject } : {}),
        createdAt: now,
        expiresAt: now + this.lifetimes.launch * 1000,
      });
      return jsonResponse(201, { launch, expires_in: this.lifetimes.launch, patient, ...(encounter === undefined ? {} : { encounter }) });
    } catch (e) {
      if (e instanceof OAuthError) return oauthErrorResponse(e);
      throw e;
    }
  }

  /** RFC 6750 §2.1: `Authorization: Bearer <token>` (attacker-controlled). */
  async #caller(authorization: string | undefined, certificate: ClientCertificate | undefined): Promise<Principal> {
    const m = authorization === undefined ? null : /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,8192})$/i.exec(authorization.trim());
    if (m === null) throw new OAuthError('invalid_token', 'A bearer token is required');
    try {
      const principal = await this.tokens.verify(m[1]!);
      requireBoundCertificate(principal, certificate);
      return principal;
    } catch (e) {
      if (isCustodiaError(e, 'token-invalid')) throw new OAuthError('invalid_token', 'The bearer token is not valid');
      throw e;
    }
  }
}
