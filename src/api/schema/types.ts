/**
 * A small schema language for projectcalico.org/v3 resources, shaped after the Go types that
 * calicoctl decodes into. One description per kind drives:
 *  - strict decoding (`decode.ts`): unknown fields, Go json's case-insensitive field match,
 *    sigs.k8s.io/yaml's scalar-to-string coercion, Go json's error text;
 *  - canonical form (`canonical.ts`): field order and `omitempty` exactly as Go's json.Marshal,
 *    so `get -o json|yaml` prints what calicoctl prints and the output applies again unchanged;
 *  - the CRD layer (`crd.ts`): OpenAPI constraints (enum, pattern, lengths, ranges) and
 *    defaults, which calicoctl v3.32 applies itself in etcd mode.
 * Struct-level rules (go-playground validators, CEL) are plain functions beside each kind.
 */

/** OpenAPI constraints from the CRD; violations produce Kubernetes-style messages. */
export interface Constraints {
  /** Allowed values; integers for integer enums (rendered quoted, as Kubernetes does). */
  enum?: readonly (string | number)[];
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minItems?: number;
  minProperties?: number;
  maxProperties?: number;
  /** OpenAPI `format` the apiextensions validator checks (`cidr`). */
  format?: 'cidr';
  /** CRD default, applied when the field is absent. */
  default?: unknown;
  /** OpenAPI `allOf`: subschemas the value must each satisfy (kubebuilder emits one when a type and its field both carry an enum). */
  allOf?: readonly Omit<Constraints, 'allOf' | 'default'>[];
}

export type Ty =
  | ({ t: 'string'; go?: string } & Constraints)
  | ({ t: 'bool' } & Constraints)
  | ({ t: 'int'; go: IntGoType } & Constraints)
  | ({ t: 'float' } & Constraints)
  /** numorstring.ASNumber: a number, or a string in plain or asdot (`X.Y`) form. */
  | ({ t: 'asn' } & Constraints)
  /**
   * numorstring.Uint8OrString / Port / Protocol: a number or a string. `decode` applies the Go
   * type's own UnmarshalJSON/MarshalJSON (canonical value or Go's error); without it the value
   * is kept as given.
   */
  | ({ t: 'intOrString'; go: string; decode?: (v: number | string) => ScalarDecode } & Constraints)
  /** metav1.Duration: a Go duration string (`10s`, `1h30m`). */
  | ({ t: 'duration' } & Constraints)
  /** metav1.Time: RFC 3339 string or null. */
  | ({ t: 'time' } & Constraints)
  | ({ t: 'struct'; go: string; fields: readonly Field[] } & Constraints)
  | ({ t: 'list'; of: Ty; go?: string } & Constraints)
  | ({ t: 'map'; of: Ty } & Constraints)
  /** Free-form JSON (json.RawMessage, interface{}), preserved as given. */
  | ({ t: 'any' } & Constraints);

/** What a custom Go UnmarshalJSON made of a scalar: its canonical value, or the failure. */
export type ScalarDecode = { ok: true; value: number | string } | { ok: false; range: true } | { ok: false; range: false; message: string };

export type IntGoType = 'int' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

export interface Field {
  /** JSON name (struct tag). */
  json: string;
  /** Go field name, used by validator messages (`StructField()`). */
  go: string;
  ty: Ty;
  /** `omitempty` in the JSON tag. */
  omitempty?: boolean;
  /** The Go field is a pointer: absent and zero differ, and omitempty drops only nil. */
  ptr?: boolean;
  /** Listed in the CRD's `required`. */
  required?: boolean;
}

export type StructTy = Extract<Ty, { t: 'struct' }>;

// Builders keep the kind files short and readable.
export const str = (c: Constraints & { go?: string } = {}): Ty => ({ t: 'string', ...c });
export const bool = (c: Constraints = {}): Ty => ({ t: 'bool', ...c });
export const int = (go: IntGoType = 'int', c: Constraints = {}): Ty => ({ t: 'int', go, ...c });
export const float = (c: Constraints = {}): Ty => ({ t: 'float', ...c });
export const asn = (c: Constraints = {}): Ty => ({ t: 'asn', ...c });
export const intOrString = (go: string, c: Constraints = {}, decode?: (v: number | string) => ScalarDecode): Ty =>
  decode ? { t: 'intOrString', go, decode, ...c } : { t: 'intOrString', go, ...c };
export const duration = (c: Constraints = {}): Ty => ({ t: 'duration', ...c });
export const time = (): Ty => ({ t: 'time' });
export const list = (of: Ty, c: Constraints & { go?: string } = {}): Ty => ({ t: 'list', of, ...c });
export const map = (of: Ty, c: Constraints = {}): Ty => ({ t: 'map', of, ...c });
export const any = (): Ty => ({ t: 'any' });
export const struct = (go: string, fields: readonly Field[], c: Constraints = {}): StructTy => ({ t: 'struct', go, fields, ...c });

/**
 * A field with Go's usual spelling: `f('cidr', str(), 'CIDR')`. Options: `omit` (omitempty),
 * `ptr`, `req` (CRD required). The Go name defaults to the JSON name with a capital first letter.
 */
export function f(json: string, ty: Ty, go?: string, ...opts: ('omit' | 'ptr' | 'req')[]): Field {
  const field: Field = { json, go: go ?? json.charAt(0).toUpperCase() + json.slice(1), ty };
  if (opts.includes('omit')) field.omitempty = true;
  if (opts.includes('ptr')) field.ptr = true;
  if (opts.includes('req')) field.required = true;
  return field;
}
/** The common case: an optional pointer-or-omitempty field. */
export const opt = (json: string, ty: Ty, go?: string): Field => f(json, ty, go, 'omit');
export const optPtr = (json: string, ty: Ty, go?: string): Field => f(json, ty, go, 'omit', 'ptr');

/** The bare struct name Go puts before the field path (`IPPoolSpec` in `IPPoolSpec.spec.cidr`). */
export function goStructName(ty: StructTy): string {
  return ty.go.slice(ty.go.lastIndexOf('.') + 1);
}

/** Go's name for a type in json error messages (`int`, `string`, `[]string`, `v3.IPPoolSpec`). */
export function goTypeName(ty: Ty): string {
  switch (ty.t) {
    case 'string':
      return ty.go ?? 'string';
    case 'bool':
      return 'bool';
    case 'int':
      return ty.go;
    case 'float':
      return 'float64';
    case 'asn':
      return 'numorstring.ASNumber';
    case 'intOrString':
      return ty.go;
    case 'duration':
      return 'v1.Duration';
    case 'time':
      return 'v1.Time';
    case 'struct':
      // reflect's Type.String(): package name and type name. Calico API structs are in v3 unless
      // the schema names another package (`v1.ObjectMeta`, `internalapi.NodeSpec`).
      return ty.go.includes('.') ? ty.go : `v3.${ty.go}`;
    case 'list':
      return ty.go ?? `[]${goTypeName(ty.of)}`;
    case 'map':
      return `map[string]${goTypeName(ty.of)}`;
    case 'any':
      return 'interface {}';
  }
}
