// The YAML 1.2 core schema (§10.3) exactly as the `yaml` package resolves plain scalars, for js-yaml.
// js-yaml's own core schema differs: it also reads `0b1`, `-0x1F` and `+0o7` as integers, not `-.5` as a float.

export interface ScalarType {
  readonly tag: string;
  readonly kind: 'scalar';
  /** Whether a plain scalar (null for an empty one) is of this type. */
  resolve(source: string | null): boolean;
  construct(source: string | null): unknown;
}

// The tests are those of yaml/dist/schema/core (null, bool, intOct, int, intHex, floatNaN, floatExp, float).
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/;
const FLOAT = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

const INFINITY = /inf$/i;

const test = (re: RegExp) => (s: string | null): boolean => s !== null && re.test(s);

export const YAML_CORE_TYPES: ReadonlyArray<ScalarType> = [
  {
    tag: 'tag:yaml.org,2002:null',
    kind: 'scalar',
    resolve: (s) => s === null || NULL.test(s),
    construct: () => null,
  },
  {
    tag: 'tag:yaml.org,2002:bool',
    kind: 'scalar',
    resolve: test(BOOL),
    construct: (s) => s?.[0] === 't' || s?.[0] === 'T',
  },
  {
    tag: 'tag:yaml.org,2002:int',
    kind: 'scalar',
    resolve: test(INT),
    construct: (s) => {
      const str = s ?? '';
      if (str.startsWith('0o')) return parseInt(str.slice(2), 8);
      if (str.startsWith('0x')) return parseInt(str.slice(2), 16);
      return parseInt(str, 10);
    },
  },
  {
    tag: 'tag:yaml.org,2002:float',
    kind: 'scalar',
    resolve: test(FLOAT),
    construct: (s) => {
      const str = s ?? '';
      if (str.endsWith('nan') || str.endsWith('NaN') || str.endsWith('NAN')) return Number.NaN;
      if (INFINITY.test(str)) return str.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      return parseFloat(str);
    },
  },
];
