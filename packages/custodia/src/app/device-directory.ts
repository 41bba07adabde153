/**
 * Which FHIR Device a network endpoint is (issue 6 §2). A Device is linked:
 *
 * 1. by MAC: a `Device.identifier` whose system is
 *    `http://terminology.hl7.org/NamingSystem/ethernet-address-identifier` — the
 *    NamingSystem IHE Patient Care Devices registered in HL7 Terminology (THO) for an
 *    Ethernet MAC address (IEEE EUI-48) used as a device identifier. The value is
 *    matched in any common spelling (`00:1B:63:84:45:E6`, `00-1b-63-84-45-e6`,
 *    `001b.6384.45e6`).
 * 2. else by IP: `Device.url` (R4: "network address to contact device") whose host is an
 *    IP literal, e.g. `http://10.0.4.17/` or `10.0.4.17`.
 *
 * A Device's class is its `Device.type` (R4: "the kind or type of device"), the first
 * coding with a system and a code, as `system|code` (a FHIR token): the telemetry scorer
 * pools the network baselines of each class, so that a new device of a known kind is
 * judged from its first message.
 *
 * The patient a Device is attached to is its `Device.patient` (a `Patient/<id>` reference):
 * the scorer keeps vital-sign baselines per patient-device pairing.
 *
 * MAC first, because addresses are leased (DHCP) and move between devices; a MAC stays
 * with its network card (spoofable, as every identifier in a packet is — the checks on
 * what the device reports are what catch an impostor). A Device `entered-in-error` links
 * nothing. The table is rebuilt when the store's change marker for Device moves, checked
 * at most every `refreshMs`, so a Device registered now links within that time.
 */
import { isIP } from 'node:net';
import type { FlowEndpoints } from '../detect/index.js';
import type { ResourceStore, SearchQuery } from '../fhir/index.js';
import type { Clock } from '../kernel/index.js';

export const ETHERNET_ADDRESS_SYSTEM = 'http://terminology.hl7.org/NamingSystem/ethernet-address-identifier';
const MAX_DEVICES = 200_000;
/** A relative reference to a Patient (FHIR R4 §2.3.0.1 literal reference, id per §2.24.0.1). */
const PATIENT_REFERENCE = /^Patient\/[A-Za-z0-9\-.]{1,64}$/;

/** A MAC in canonical form (lower case, colons), from any common spelling; undefined if it is not an EUI-48. */
export function canonicalMac(text: string): string | undefined {
  const hex = text.replace(/[:.-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** The IP literal a Device.url names, if it names one. */
function ipOfUrl(url: string): string | undefined {
  if (isIP(url) !== 0) return url;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return isIP(host) !== 0 ? host : undefined;
  } catch {
    return undefined;
  }
}

/** `system|code` of the first coding of a Device.type with both (stored JSON, validated on write; still checked for shape and size here). */
function classOfType(type: DeviceJson['type']): string | undefined {
  const codings = type !== null && typeof type === 'object' && Array.isArray(type.coding) ? type.coding : [];
  for (const c of codings) {
    if (typeof c?.system === 'string' && typeof c.code === 'string' && c.system !== '' && c.code !== '' && c.system.length + c.code.length <= 512) return `${c.system}|${c.code}`;
  }
  return undefined;
}

interface DeviceJson {
  id?: unknown;
  status?: unknown;
  url?: unknown;
  type?: { coding?: { system?: unknown; code?: unknown }[] };
  patient?: { reference?: unknown };
  identifier?: { system?: unknown; value?: unknown }[];
}

export class DeviceDirectory {
  #byMac = new Map<string, string>();
  #byIp = new Map<string, string>();
  #known = new Set<string>();
  #classes = new Map<string, string>();
  #patients = new Map<string, string>();
  #marker: string | undefined;
  #checkedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly clock: Clock,
    private readonly refreshMs = 5_000,
    /** Whether a patient was erased: a Device still attached to one is attached to no one (its readings are someone else's). */
    private readonly isErased: (patient: string) => boolean = () => false,
  ) {}

  /**
   * The Device (`Device/<id>`) of a flow's originator, or undefined for an unknown talker.
   *
   * @example
   *   const device = (await directory.deviceOf(record.endpoints)) ?? inventory.talkerOf(record.endpoints);
   */
  async deviceOf(e: FlowEndpoints): Promise<string | undefined> {
    await this.#refresh();
    const mac = e.origMac === undefined ? undefined : this.#byMac.get(e.origMac);
    return mac ?? (e.origAddr === undefined ? undefined : this.#byIp.get(e.origAddr));
  }

  /** Whether `Device/<id>` is stored and not `entered-in-error` (as of the last load). */
  async known(device: string): Promise<boolean> {
    await this.#refresh();
    return this.#known.has(device);
  }

  /** The class (`system|code` of its `Device.type`) of `Device/<id>`, if it is stored with one. */
  async classOf(device: string): Promise<string | undefined> {
    await this.#refresh();
    return this.#classes.get(device);
  }

  /** The patient (`Patient/<id>`) `Device/<id>` is attached to, if it is stored with one who was not erased. */
  async patientOf(device: string): Promise<string | undefined> {
    await this.#refresh();
    const patient = this.#patients.get(device);
    return patient === undefined || this.isErased(patient) ? undefined : patient;
  }

  /** The Devices (`Device/<id>`) attached to `patient` (`Patient/<id>`), as stored now (the directory is reloaded first if it changed). */
  async devicesOf(patient: string): Promise<string[]> {
    this.#checkedAt = -Infinity; // an erasure asks: no five-second-old view
    await this.#refresh();
    return [...this.#patients].filter(([, p]) => p === patient).map(([d]) => d);
  }

  async #refresh(): Promise<void> {
    const now = this.clock.now();
    // Checked lately and no load under way. A caller that comes while one is under way
    // waits for it: the maps are not filled until it ends (the first load of all included).
    if (this.#loading === undefined && now - this.#checkedAt < this.refreshMs) return;
    this.#loading ??= (async () => {
      this.#checkedAt = now;
      const marker = await this.store.changeMarker('Device');
      if (marker !== this.#marker) {
        await this.#load();
        this.#marker = marker;
      }
    })().finally(() => (this.#loading = undefined));
    await this.#loading;
  }

  async #load(): Promise<void> {
    const query: SearchQuery = { types: ['Device'], conditions: [], sort: [], count: MAX_DEVICES, total: 'none', include: [], revinclude: [], ignored: [] };
    const { keys } = await this.store.search(query, MAX_DEVICES);
    const byMac = new Map<string, string>();
    const byIp = new Map<string, string>();
    const known = new Set<string>();
    const classes = new Map<string, string>();
    const patients = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 1000) {
      for (const v of await this.store.loadByKeys(keys.slice(i, i + 1000))) {
        if (v.json === null) continue;
        const d = JSON.parse(v.json) as DeviceJson;
        if (typeof d.id !== 'string' || d.status === 'entered-in-error') continue;
        const ref = `Device/${d.id}`;
        known.add(ref);
        const kind = classOfType(d.type);
        if (kind !== undefined) classes.set(ref, kind);
        const patient = typeof d.patient?.reference === 'string' && PATIENT_REFERENCE.test(d.patient.reference) ? d.patient.reference : undefined;
        if (patient !== undefined) patients.set(ref, patient);
        for (const id of Array.isArray(d.identifier) ? d.identifier : []) {
          if (id?.system !== ETHERNET_ADDRESS_SYSTEM || typeof id.value !== 'string') continue;
          const mac = canonicalMac(id.value);
          if (mac !== undefined && !byMac.has(mac)) byMac.set(mac, ref);
        }
        const ip = typeof d.url === 'string' ? ipOfUrl(d.url) : undefined;
        if (ip !== undefined && !byIp.has(ip)) byIp.set(ip, ref);
      }
    }
    this.#byMac = byMac;
    this.#byIp = byIp;
    this.#known = known;
    this.#classes = classes;
    this.#patients = patients;
  }
}
