#!/usr/bin/env node
// Writes the NSL-KDD 20% fixture as Custodia encodes it for a model (the nsl-kdd feature
// schema: categorical values as vocabulary indices, duration/src_bytes/dst_bytes as
// ln(1 + x)), one CSV row per record: the 39 features, then the class. Every number is
// printed so that it parses back to the same double. make-nsl-kdd-onnx.py trains on it, so
// that the imported model sees exactly the columns `custodia detect score` will feed it.
//
// Usage (after `npm run build`): node encode-nsl-kdd.mjs [input] > encoded.csv
import { readAllFlowRows } from '../../dist/app/flow-rows.js';
import { schemaForFormat } from '../../dist/detect/index.js';

const input = process.argv[2] ?? new URL('../../test/fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url).pathname;
const schema = schemaForFormat('nsl-kdd');
const { matrix, classes } = await readAllFlowRows(input, 'nsl-kdd', schema);
const out = [[...schema.features.map((f) => f.name), 'class'].join(',')];
for (let r = 0; r < matrix.rows; r++) {
  out.push([...matrix.data.subarray(r * matrix.width, (r + 1) * matrix.width)].map(String).join(',') + ',' + classes[r]);
}
process.stdout.write(out.join('\n') + '\n');
