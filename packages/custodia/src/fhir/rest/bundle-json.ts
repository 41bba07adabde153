/**
 * Bundles are assembled as JSON text around the stored resources, so a search page is
 * never parsed and re-serialised resource by resource (stored JSON is already valid,
 * validated FHIR written by this server).
 */
export interface BundleEntryJson {
  readonly fullUrl?: string;
  /** Stored resource JSON text, or an object to serialise. */
  readonly resource?: string | object;
  readonly search?: { mode: 'match' | 'include' | 'outcome' };
  readonly request?: { method: string; url: string };
  readonly response?: { status: string; location?: string; etag?: string; lastModified?: string; outcome?: object };
}

export interface BundleHeader {
  readonly type: 'searchset' | 'history' | 'batch-response' | 'transaction-response';
  readonly id?: string;
  readonly timestamp: string;
  readonly total?: number;
  readonly link?: { relation: string; url: string }[];
}

function entryJson(e: BundleEntryJson): string {
  const parts: string[] = [];
  if (e.fullUrl !== undefined) parts.push(`"fullUrl":${JSON.stringify(e.fullUrl)}`);
  if (e.resource !== undefined) parts.push(`"resource":${typeof e.resource === 'string' ? e.resource : JSON.stringify(e.resource)}`);
  if (e.search !== undefined) parts.push(`"search":${JSON.stringify(e.search)}`);
  if (e.request !== undefined) parts.push(`"request":${JSON.stringify(e.request)}`);
  if (e.response !== undefined) parts.push(`"response":${JSON.stringify(e.response)}`);
  return `{${parts.join(',')}}`;
}

export function bundleJson(header: BundleHeader, entries: readonly BundleEntryJson[]): string {
  const head: Record<string, unknown> = { resourceType: 'Bundle' };
  if (header.id !== undefined) head['id'] = header.id;
  head['meta'] = { lastUpdated: header.timestamp };
  head['type'] = header.type;
  head['timestamp'] = header.timestamp;
  if (header.total !== undefined) head['total'] = header.total;
  if (header.link !== undefined && header.link.length > 0) head['link'] = header.link;
  const text = JSON.stringify(head);
  if (entries.length === 0) return text;
  return `${text.slice(0, -1)},"entry":[${entries.map(entryJson).join(',')}]}`;
}
