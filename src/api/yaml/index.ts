/**
 * calicoctl-compatible YAML: read user files exactly as calicoctl v3.32 reads them (separator,
 * go-yaml v2 YAML 1.1 resolution, strict keys) and print exactly what `calicoctl get -o yaml`
 * and `-o json` print.
 */

export { parseDocuments, parseDocument, splitDocuments, toPlain, YamlError } from './read.js';
export type { ParseOptions, Pos, YamlDocument, YamlErrorCode, YMapEntry, YNode } from './read.js';
export { emitYaml, YamlEmitError } from './emit.js';
export { emitJson, goJsonQuote, JsonValueError } from './json.js';
export { goYamlKeyLess, sortKeysGoYaml } from './keyorder.js';
export { goResolve, isBase60Float, isGoYamlTimestamp, resolvesToString, type Resolved } from './resolve.js';
export { formatFloatG, yamlNumberText } from './gonum.js';
export { goStringOfScalar } from './gostring.js';
