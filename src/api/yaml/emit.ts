/**
 * `emitYaml`: exactly what sigs.k8s.io/yaml.Marshal prints for a JSON value — i.e. go-yaml v2's
 * encoder (encode.go) feeding libyaml's emitter (emitterc.go), ported state for state for the
 * events a JSON value produces (block mappings and sequences, `{}`/`[]` for empty ones, scalars).
 *
 * Tricky, and reproduced:
 * - Keys are sorted with go-yaml's natural order (keyorder.ts), not byte order.
 * - A string is written double-quoted when it would read back as something else (`"true"`,
 *   `"123"`, `"1e3"`, `"null"`, `""`, `"2019-06-17T13:55:44Z"`, `"1:20"`), as a literal block
 *   (`|`, `|-`, `|+`, `|2-`) when it contains "\n", else plain — and then libyaml downgrades
 *   plain to 'single-quoted' when plain is not allowed (leading indicator, `: ` or ` #`, leading
 *   or trailing space, …) and to "double-quoted" when single quotes cannot carry it (control
 *   characters, tabs, astral-plane characters — libyaml's is_printable stops at U+FFFD).
 * - Lines are folded: libyaml's best_width is 80 (go-yaml never changes it), so a plain, single-
 *   or double-quoted value is broken at a space once the column passes 80 (not in keys).
 * - Keys longer than 128 bytes or spanning lines are written as `? key` / `: value`.
 * - Numbers go through JSON and back (gonum.ts): 1.5 → 1.5, 1e21 → 1e+21, 1234567.5 → 1.2345675e+06.
 *
 * `emitJson` (json.ts, re-exported here) prints `-o json`.
 */

import { JsonValueError, YamlEmitError } from './errors.js';
import { sortKeysGoYaml } from './keyorder.js';
import { yamlNumberText } from './gonum.js';
import { resolvesToString } from './resolve.js';

export { YamlEmitError };

type Style = 'plain' | 'single' | 'double' | 'literal';
type Ev =
  | { t: 'scalar'; text: string; cps: number[]; style: Style }
  | { t: 'seq'; items: Ev[] }
  | { t: 'map'; entries: [Ev & { t: 'scalar' }, Ev][] };

const BEST_WIDTH = 80;
const BEST_INDENT = 2;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

function stringEvent(s: string): Ev & { t: 'scalar' } {
  const text = s.replace(LONE_SURROGATE, '\ufffd'); // as Go's JSON encoding would have
  const style: Style = text.includes('\n') ? 'literal' : resolvesToString(text) ? 'plain' : 'double';
  return { t: 'scalar', text, cps: codePoints(text), style };
}

const plainScalar = (text: string): Ev => ({ t: 'scalar', text, cps: codePoints(text), style: 'plain' });

/** encoding/json + go-yaml's decode of it: a JSON-compatible JS value as emitter events. */
function toEvent(v: unknown): Ev {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: () => unknown }).toJSON();
  }
  if (v === null || v === undefined) return plainScalar('null');
  switch (typeof v) {
    case 'boolean': return plainScalar(v ? 'true' : 'false');
    case 'number': case 'bigint':
      try {
        return plainScalar(yamlNumberText(v));
      } catch (e) {
        if (e instanceof JsonValueError) throw new YamlEmitError(e.message);
        throw e;
      }
    case 'string': return stringEvent(v);
    case 'object': {
      if (Array.isArray(v)) return { t: 'seq', items: v.map((x) => toEvent(x === undefined ? null : x)) };
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function');
      return { t: 'map', entries: sortKeysGoYaml(keys).map((k) => [stringEvent(k), toEvent(obj[k])]) };
    }
    default:
      throw new YamlEmitError(`json: unsupported type: ${typeof v}`);
  }
}

const isBreak = (c: number | undefined): boolean => c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
const isBlank = (c: number | undefined): boolean => c === 0x20 || c === 0x09;
const isBlankz = (c: number | undefined): boolean => isBlank(c) || isBreak(c) || c === 0;
const isPrintable = (c: number): boolean =>
  c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff);

interface Analysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

/** yaml_emitter_analyze_scalar. */
function analyze(v: number[]): Analysis {
  if (v.length === 0) return { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true, block: false };
  let blockInd = false;
  let flowInd = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  if (v.length >= 3 && ((v[0] === 45 && v[1] === 45 && v[2] === 45) || (v[0] === 46 && v[1] === 46 && v[2] === 46))) {
    blockInd = true;
    flowInd = true;
  }
  let precededByWs = true;
  const last = v.length - 1;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    const followedByWs = i + 1 >= v.length || isBlank(v[i + 1]);
    const ch = String.fromCodePoint(c);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) { flowInd = true; blockInd = true; }
      else if (ch === '?' || ch === ':') { flowInd = true; if (followedByWs) blockInd = true; }
      else if (ch === '-' && followedByWs) { flowInd = true; blockInd = true; }
    } else if (',?[]{}'.includes(ch)) {
      flowInd = true;
    } else if (ch === ':') {
      flowInd = true;
      if (followedByWs) blockInd = true;
    } else if (ch === '#' && precededByWs) {
      flowInd = true;
      blockInd = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === last) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === last) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankz(c);
  }
  const a: Analysis = { multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, block: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) { a.flowPlain = false; a.blockPlain = false; }
  if (trailingSpace) a.block = false;
  if (breakSpace) { a.flowPlain = false; a.blockPlain = false; a.singleQuoted = false; }
  if (spaceBreak || special) { a.flowPlain = false; a.blockPlain = false; a.singleQuoted = false; a.block = false; }
  if (lineBreaks) { a.flowPlain = false; a.blockPlain = false; }
  if (flowInd) a.flowPlain = false;
  if (blockInd) a.blockPlain = false;
  return a;
}

const ESCAPES: Record<number, string> = {
  0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e',
  0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P',
};

/** libyaml's emitter, reduced to the events JSON values produce. */
class Emitter {
  private readonly out: string[] = [];
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private flowLevel = 0;
  private mappingContext = false;
  private simpleKeyContext = false;

  text(): string { return this.out.join(''); }

  private put(c: string): void { this.out.push(c); this.column++; }
  private putBreak(): void { this.out.push('\n'); this.column = 0; }
  private write(cp: number): void { this.out.push(String.fromCodePoint(cp)); this.column++; }
  private writeBreak(cp: number): void {
    if (cp === 0x0a) { this.putBreak(); return; }
    this.write(cp);
    this.column = 0;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }
  private popIndent(): void { this.indent = this.indents.pop()!; }

  private writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(ind: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const ch of ind) this.put(ch);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  document(root: Ev): void {
    this.node(root, false, false);
    this.writeIndent(); // implicit DOCUMENT-END
  }

  private node(n: Ev, mapping: boolean, simpleKey: boolean): void {
    this.mappingContext = mapping;
    this.simpleKeyContext = simpleKey;
    if (n.t === 'scalar') { this.scalar(n); return; }
    const empty = n.t === 'seq' ? n.items.length === 0 : n.entries.length === 0;
    if (this.flowLevel > 0 || empty) {
      if (!empty) throw new Error('flow collections with content are never emitted for JSON values');
      this.writeIndicator(n.t === 'seq' ? '[' : '{', true, true, false);
      this.increaseIndent(true, false);
      this.flowLevel++;
      this.flowLevel--;
      this.popIndent();
      this.writeIndicator(n.t === 'seq' ? ']' : '}', false, false, false);
    } else if (n.t === 'seq') {
      this.increaseIndent(false, this.mappingContext && !this.indention);
      for (const item of n.items) {
        this.writeIndent();
        this.writeIndicator('-', true, false, true);
        this.node(item, false, false);
      }
      this.popIndent();
    } else {
      this.increaseIndent(false, false);
      for (const [k, v] of n.entries) {
        this.writeIndent();
        const simple = !analyze(k.cps).multiline && Buffer.byteLength(k.text, 'utf8') <= 128;
        if (simple) {
          this.node(k, true, true);
          this.writeIndicator(':', false, false, false);
        } else {
          this.writeIndicator('?', true, false, true);
          this.node(k, true, false);
          this.writeIndent();
          this.writeIndicator(':', true, false, true);
        }
        this.node(v, true, false);
      }
      this.popIndent();
    }
  }

  private selectStyle(style: Style, a: Analysis, empty: boolean): Style {
    let s = style;
    if (this.simpleKeyContext && a.multiline) s = 'double';
    if (s === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlain) || (this.flowLevel === 0 && !a.blockPlain)) s = 'single';
      if (empty && (this.flowLevel > 0 || this.simpleKeyContext)) s = 'single';
    }
    if (s === 'single' && !a.singleQuoted) s = 'double';
    if (s === 'literal' && (!a.block || this.flowLevel > 0 || this.simpleKeyContext)) s = 'double';
    return s;
  }

  private scalar(n: Ev & { t: 'scalar' }): void {
    const style = this.selectStyle(n.style, analyze(n.cps), n.cps.length === 0);
    this.increaseIndent(true, false);
    const allowBreaks = !this.simpleKeyContext;
    if (style === 'plain') this.plain(n.cps, allowBreaks);
    else if (style === 'single') this.singleQuoted(n.cps, allowBreaks);
    else if (style === 'double') this.doubleQuoted(n.cps, allowBreaks);
    else this.literal(n.cps);
    this.popIndent();
  }

  private plain(v: number[], allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (c === 0x20) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && v[i + 1] !== 0x20) this.writeIndent();
        else this.write(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === 0x0a) this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.write(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private singleQuoted(v: number[], allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (c === 0x20) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < v.length - 1 && v[i + 1] !== 0x20) this.writeIndent();
        else this.write(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === 0x0a) this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === 0x27) this.put("'");
        this.write(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private doubleQuoted(v: number[], allowBreaks: boolean): void {
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    const bom = v[0] === 0xfeff; // libyaml's is_bom looks at the value's start, whatever i is
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (!isPrintable(c) || bom || isBreak(c) || c === 0x22 || c === 0x5c) {
        this.put('\\');
        const e = ESCAPES[c];
        if (e !== undefined) {
          this.put(e);
        } else {
          const [letter, width] = c <= 0xff ? ['x', 2] : c <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter);
          for (const h of c.toString(16).toUpperCase().padStart(width, '0')) this.put(h);
        }
        spaces = false;
      } else if (c === 0x20) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < v.length - 1) {
          this.writeIndent();
          if (v[i + 1] === 0x20) this.put('\\');
        } else {
          this.write(c);
        }
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private literal(v: number[]): void {
    this.writeIndicator('|', true, false, false);
    if (v[0] === 0x20 || isBreak(v[0])) this.writeIndicator(String(BEST_INDENT), false, false, false);
    let chomp = '';
    const n = v.length;
    if (n === 0 || !isBreak(v[n - 1])) chomp = '-';
    else if (n === 1 || isBreak(v[n - 2])) chomp = '+';
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const c of v) {
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.write(c);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

/** sigs.k8s.io/yaml.Marshal of a JSON-compatible value; always ends with "\n". */
export function emitYaml(value: unknown): string {
  const e = new Emitter();
  e.document(toEvent(value));
  return e.text();
}

export { emitJson } from './json.js';
