/**
 * What a scalar becomes when calicoctl decodes it into a Go *string* field: sigs.k8s.io/yaml's
 * convertToJSONableObject turns numbers and booleans into strings first, so `name: 0x1F` is the
 * name "31", `name: 1.10` is "1.1" (float32 formatting), `name: yes` is "true". Strings are kept;
 * null stays null (json.Unmarshal then leaves the field unset).
 *
 * The Go type of a number (int or float) is recovered by re-resolving the plain text; scalars
 * with an explicit `!!int`/`!!float` tag may therefore differ from Go in rare cases.
 */

import { formatFloatG } from './gonum.js';
import type { YNode } from './node.js';
import { goResolve } from './resolve.js';

export function goStringOfScalar(node: Extract<YNode, { kind: 'scalar' }>): string | null {
  const v = node.value;
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const r = node.quoted ? null : goResolve('', node.raw);
  if (r && (r.kind === 'int' || r.kind === 'uint')) return r.value.toString();
  if (r && r.kind === 'float') return formatFloatG(r.value, 32);
  if (node.bigint !== undefined) return node.bigint.toString();
  return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? BigInt(v).toString() : formatFloatG(v, 32);
}
