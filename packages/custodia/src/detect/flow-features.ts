/**
 * From flow records (any format) to what the detectors take: the schema of a format, a
 * record's features under it, and the class of its ground-truth label.
 *
 * Classes: NSL-KDD labels map to `normal`, DoS, Probe, R2L or U2R (nsl-kdd-labels.ts; an
 * attack name we do not know is class `attack`). Other formats keep their label as the
 * class (CIC-IDS2017's `DoS Hulk`, `PortScan`, …), except that `normal` and `BENIGN` (any
 * case) are `normal`.
 */
import { NORMAL_CLASS } from './detection-model.js';
import type { FeatureRecord } from './feature-encoder.js';
import type { FeatureSchema } from './feature-schema.js';
import { CIC_FLOW_SCHEMA, cicFeatureRecord, ZEEK_CONN_SCHEMA, zeekFeatureRecord } from './flow-feature-schemas.js';
import type { FlowFormat, FlowRecord } from './flow-record.js';
import { NSL_KDD_SCHEMA } from './nsl-kdd-features.js';
import { nslKddLabel } from './nsl-kdd-labels.js';

/** The feature schema models of `format` are trained with. */
export function schemaForFormat(format: FlowFormat): FeatureSchema {
  switch (format) {
    case 'nsl-kdd':
      return NSL_KDD_SCHEMA;
    case 'zeek':
      return ZEEK_CONN_SCHEMA;
    case 'cicflowmeter':
      return CIC_FLOW_SCHEMA;
  }
}

/** The format whose schema `schema` is (by id), if any. */
export function formatOfSchema(schema: FeatureSchema): FlowFormat | undefined {
  return (['nsl-kdd', 'zeek', 'cicflowmeter'] as const).find((f) => schemaForFormat(f).id === schema.id);
}

/** A flow's features by name, for the FeatureEncoder of its format's schema. */
export function flowFeatureRecord(flow: FlowRecord): FeatureRecord {
  switch (flow.source) {
    case 'nsl-kdd':
      return flow.features;
    case 'zeek':
      return zeekFeatureRecord(flow);
    case 'cicflowmeter':
      return cicFeatureRecord(flow);
  }
}

/** The class of a flow's label, or undefined for an unlabelled flow. */
export function flowClass(flow: FlowRecord): string | undefined {
  const label = flow.truth?.label;
  if (label === undefined) return undefined;
  if (flow.source === 'nsl-kdd') {
    const l = nslKddLabel(label);
    return l.attack ? (l.attackClass ?? 'attack') : NORMAL_CLASS;
  }
  return /^(normal|benign)$/i.test(label) ? NORMAL_CLASS : label;
}
