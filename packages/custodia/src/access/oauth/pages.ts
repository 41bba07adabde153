/**
 * The server-rendered pages of the authorization endpoint: sign-in, second factor,
 * consent, patient selection and errors. Pure functions from values to HTML; every
 * value is escaped (html.ts). The pages have no scripts at all; their one inline style
 * block is allowed by hash in the Content-Security-Policy, which also allows forms to
 * post only to this server (and, since a form's answer may redirect there, to the
 * client's own redirect URI: CSP3 form-action applies to redirects after submission).
 */
import { html, SafeHtml, styleHash } from './html.js';
import { describeScope } from './scope-grant.js';

const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1e23}',
  'main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px #0002}',
  'h1{font-size:1.1rem;margin:0 0 1.5rem;color:#38507a}h2{font-size:1.3rem;margin:0 0 1rem}',
  'label{display:block;margin:1rem 0 .25rem;font-weight:600}',
  'input[type=text],input[type=password],input[type=search]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}',
  'button{margin:1.5rem .5rem 0 0;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}',
  '.alert{background:#fdecea;border-left:4px solid #c0392b;padding:.75rem}',
  'ul{padding-left:1.2rem}li{margin:.3rem 0}.muted{color:#5b6370;font-size:.9rem}',
].join('');

export const PAGE_STYLE_HASH = styleHash(STYLE);

/** The hidden fields that tie a form to its pending request (and defend it against CSRF). */
export interface FormBinding {
  readonly request: string;
  readonly csrf: string;
  /** The step this form answers (compared with the stored stage). */
  readonly step: 'login' | 'mfa' | 'consent' | 'patient';
}

export interface PageContent {
  readonly title: string;
  readonly body: SafeHtml;
}

export function layout(p: PageContent): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${p.title} – Custodia</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main><h1>Custodia</h1>${p.body}</main></body></html>
`.text;
}

function hidden(b: FormBinding, action: string): SafeHtml {
  return html`<form method="post" action="${action}"><input type="hidden" name="request" value="${b.request}"><input type="hidden" name="csrf" value="${b.csrf}"><input type="hidden" name="step" value="${b.step}">`;
}

function alert(message: string | undefined): SafeHtml {
  return message === undefined ? html`` : html`<p class="alert" role="alert">${message}</p>`;
}

export function loginPage(o: { binding: FormBinding; action: string; clientName: string; error?: string; username?: string }): PageContent {
  return {
    title: 'Sign in',
    body: html`<h2>Sign in</h2>
<p><strong>${o.clientName}</strong> asks to use your account. Sign in to continue.</p>${alert(o.error)}
${hidden(o.binding, o.action)}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${o.username ?? ''}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  };
}

export function secondFactorPage(o: { binding: FormBinding; action: string; error?: string }): PageContent {
  return {
    title: 'Second factor',
    body: html`<h2>Enter your code</h2>
<p>Enter the code your authenticator app shows, or one of your recovery codes.</p>${alert(o.error)}
${hidden(o.binding, o.action)}
<label for="code">Code</label><input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required>
<button type="submit">Continue</button></form>`,
  };
}

export function consentPage(o: { binding: FormBinding; action: string; clientName: string; username: string; scopes: readonly string[] }): PageContent {
  const items = o.scopes.map((s) => html`<li>${describeScope(s)} <span class="muted">(${s})</span></li>`);
  return {
    title: 'Allow access',
    body: html`<h2>Allow access?</h2>
<p>You are signed in as <strong>${o.username}</strong>. <strong>${o.clientName}</strong> asks to:</p>
<ul>${items}</ul>
${hidden(o.binding, o.action)}
<button type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny">Deny</button></form>`,
  };
}

export interface PatientChoice {
  readonly id: string;
  readonly name: string;
  readonly birthDate?: string;
  readonly identifier?: string;
}

export function patientPage(o: { binding: FormBinding; action: string; query?: string; results?: readonly PatientChoice[]; error?: string }): PageContent {
  const results =
    o.results === undefined
      ? html``
      : o.results.length === 0
        ? html`<p>No patient matches.</p>`
        : html`<fieldset><legend>Matching patients</legend>${o.results.map(
            (r, i) =>
              html`<label><input type="radio" name="patient" value="${r.id}"${i === 0 ? html` checked` : html``}> ${r.name}${r.birthDate === undefined ? '' : `, born ${r.birthDate}`}${r.identifier === undefined ? '' : ` (${r.identifier})`}</label>`,
          )}</fieldset><button type="submit" name="action" value="select">Choose this patient</button>`;
  return {
    title: 'Choose a patient',
    body: html`<h2>Choose a patient</h2>
<p>The app works with one patient. Search by name or identifier.</p>${alert(o.error)}
${hidden(o.binding, o.action)}
<label for="query">Name or identifier</label><input type="search" id="query" name="query" value="${o.query ?? ''}">
<button type="submit" name="action" value="search">Search</button>
${results}</form>`,
  };
}

export function errorPage(o: { title: string; message: string }): PageContent {
  return { title: o.title, body: html`<h2>${o.title}</h2><p>${o.message}</p><p class="muted">You can close this page and return to the application.</p>` };
}

/** The response headers of every page. `formTargets` are extra CSP form-action sources. */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src ${PAGE_STYLE_HASH}; form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
  };
}

/**
 * The CSP source for a redirect URI (its origin, or its scheme for a private-use URI
 * scheme), or undefined when none can be written safely.
 */
export function formTargetOf(redirectUri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(redirectUri);
  } catch {
    return undefined;
  }
  if (u.protocol === 'https:' || u.protocol === 'http:') return /^[a-z0-9.:[\]/-]+$/i.test(u.origin) ? u.origin : undefined;
  return /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) ? u.protocol : undefined;
}
