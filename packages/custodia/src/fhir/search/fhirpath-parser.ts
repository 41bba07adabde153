/**
 * A parser for the subset of FHIRPath (HL7 FHIRPath N1, http://hl7.org/fhirpath/N1/) that the
 * official R4 search parameter expressions use: paths, `|`, `as`/`is`, function calls,
 * `[n]`, `=`/`!=`, `and`, string/number/boolean literals and `%resource`. Anything else is a
 * `FhirPathSyntaxError`, and the expression goes to the fhirpath library instead. Input is
 * always an official expression from the generated tables, never a request.
 */

export type FpNode =
  | { readonly k: 'ident'; readonly name: string }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'lit'; readonly value: string | number | boolean }
  | { readonly k: 'member'; readonly target: FpNode; readonly name: string }
  | { readonly k: 'call'; readonly target: FpNode | null; readonly name: string; readonly args: readonly FpNode[] }
  | { readonly k: 'index'; readonly target: FpNode; readonly index: number }
  | { readonly k: 'as' | 'is'; readonly target: FpNode; readonly type: string }
  | { readonly k: 'union'; readonly items: readonly FpNode[] }
  | { readonly k: 'and'; readonly left: FpNode; readonly right: FpNode }
  | { readonly k: 'cmp'; readonly op: '=' | '!='; readonly left: FpNode; readonly right: FpNode };

export class FhirPathSyntaxError extends Error {}

type Token = { readonly t: 'id' | 'str' | 'num' | 'var' | 'op'; readonly v: string };

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)'|(\d+(?:\.\d+)?)|%([A-Za-z_][A-Za-z0-9_]*)|(!=|[.()[\]|=,]))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (text.slice(TOKEN.lastIndex).trim() === '') break;
    const m = TOKEN.exec(text);
    if (m === null) throw new FhirPathSyntaxError(`unsupported FHIRPath near: ${text.slice(TOKEN.lastIndex)}`);
    if (m[1] !== undefined) tokens.push({ t: 'id', v: m[1] });
    else if (m[2] !== undefined) tokens.push({ t: 'str', v: m[2].replace(/\\(.)/g, '$1') });
    else if (m[3] !== undefined) tokens.push({ t: 'num', v: m[3] });
    else if (m[4] !== undefined) tokens.push({ t: 'var', v: m[4] });
    else tokens.push({ t: 'op', v: m[5]! });
  }
  return tokens;
}

/**
 * Parses an expression of the supported subset.
 *
 * @example parseFhirPath("Patient.telecom.where(system='email')")
 */
export function parseFhirPath(text: string): FpNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()?.v === v;
  const isWord = (v: string): boolean => peek()?.t === 'id' && peek()?.v === v;
  const expectOp = (v: string): void => {
    if (!isOp(v)) throw new FhirPathSyntaxError(`expected '${v}' in ${text}`);
    pos++;
  };
  const ident = (): string => {
    const tok = peek();
    if (tok?.t !== 'id') throw new FhirPathSyntaxError(`expected an identifier in ${text}`);
    pos++;
    return tok.v;
  };

  // FHIRPath precedence, loosest first: and < (= !=) < | < (is as) < postfix.
  const andExpr = (): FpNode => {
    let left = cmpExpr();
    while (isWord('and')) {
      pos++;
      left = { k: 'and', left, right: cmpExpr() };
    }
    return left;
  };
  const cmpExpr = (): FpNode => {
    const left = unionExpr();
    if (isOp('=') || isOp('!=')) {
      const op = peek()!.v as '=' | '!=';
      pos++;
      return { k: 'cmp', op, left, right: unionExpr() };
    }
    return left;
  };
  const unionExpr = (): FpNode => {
    const items = [typeExpr()];
    while (isOp('|')) {
      pos++;
      items.push(typeExpr());
    }
    return items.length === 1 ? items[0]! : { k: 'union', items };
  };
  const typeExpr = (): FpNode => {
    let target = postfix(term());
    while (isWord('as') || isWord('is')) {
      const k = peek()!.v as 'as' | 'is';
      pos++;
      target = { k, target, type: ident() };
    }
    return target;
  };
  const args = (): FpNode[] => {
    expectOp('(');
    const list: FpNode[] = [];
    if (!isOp(')')) {
      list.push(andExpr());
      while (isOp(',')) {
        pos++;
        list.push(andExpr());
      }
    }
    expectOp(')');
    return list;
  };
  const term = (): FpNode => {
    const tok = peek();
    if (tok === undefined) throw new FhirPathSyntaxError(`unexpected end of ${text}`);
    pos++;
    if (tok.t === 'str') return { k: 'lit', value: tok.v };
    if (tok.t === 'num') return { k: 'lit', value: Number(tok.v) };
    if (tok.t === 'var') return { k: 'var', name: tok.v };
    if (tok.t === 'op' && tok.v === '(') {
      const inner = andExpr();
      expectOp(')');
      return inner;
    }
    if (tok.t === 'id') {
      if (tok.v === 'true' || tok.v === 'false') return { k: 'lit', value: tok.v === 'true' };
      if (isOp('(')) return { k: 'call', target: null, name: tok.v, args: args() };
      return { k: 'ident', name: tok.v };
    }
    throw new FhirPathSyntaxError(`unexpected '${tok.v}' in ${text}`);
  };
  const postfix = (start: FpNode): FpNode => {
    let node = start;
    for (;;) {
      if (isOp('.')) {
        pos++;
        const name = ident();
        node = isOp('(') ? { k: 'call', target: node, name, args: args() } : { k: 'member', target: node, name };
      } else if (isOp('[')) {
        pos++;
        const tok = peek();
        if (tok?.t !== 'num' || !/^\d+$/.test(tok.v)) throw new FhirPathSyntaxError(`unsupported index in ${text}`);
        pos++;
        expectOp(']');
        node = { k: 'index', target: node, index: Number(tok.v) };
      } else {
        return node;
      }
    }
  };

  const root = andExpr();
  if (pos !== tokens.length) throw new FhirPathSyntaxError(`unexpected '${peek()?.v}' in ${text}`);
  return root;
}
