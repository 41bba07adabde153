/**
 * The keys a confidential-asymmetric client signs its assertions with: its registered
 * JWKS, or the JWKS published at its registered `jwks_uri` (fetched, with a timeout and
 * a cache, only when the server is configured to; SMART App Launch 2.x
 * client-confidential-asymmetric.html §"Registering a client").
 */
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Client } from '../identity/index.js';

export interface ClientKeys {
  keysFor(client: Client): JWTVerifyGetKey | undefined;
}

const MAX_REMOTE_SETS = 1000;

export function clientKeys(options: { fetchJwksUri: boolean }): ClientKeys {
  const remote = new Map<string, JWTVerifyGetKey>();
  return {
    keysFor(client: Client): JWTVerifyGetKey | undefined {
      if (client.jwks !== undefined) return createLocalJWKSet(client.jwks as unknown as JSONWebKeySet);
      if (client.jwksUri === undefined || !options.fetchJwksUri) return undefined;
      let set = remote.get(client.jwksUri);
      if (set === undefined) {
        if (remote.size >= MAX_REMOTE_SETS) remote.delete(remote.keys().next().value as string);
        set = createRemoteJWKSet(new URL(client.jwksUri), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
        remote.set(client.jwksUri, set);
      }
      return set;
    },
  };
}
