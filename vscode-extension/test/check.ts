/**
 * Runtime validators whose types are the types they validate, so that a validator and its
 * TypeScript type cannot disagree without `npm run typecheck` failing:
 *
 *     const node = obj<FlowNode>({ name: str, status: oneOf(DATASET_STATES), … });
 *
 * `obj<T>` needs a validator for every key of T (a key missing, or one T does not have, is a
 * compile error), and each must be exactly `Check<T[K]>`: `Check` is invariant in its type, so
 * `str` will not do for `string | null` (use `nullable(str)`), nor for an optional key (use
 * `opt(str)`), and `oneOf` must list exactly the union's values.
 *
 * At run time a check returns the problems it found, each at its JSON path
 * (`$.nodes[2].status: "fresh" is not one of …`): missing keys, wrong types and unknown enum
 * values. Keys an object has beyond its type's are allowed — the extension reads only what it
 * types, and the daemon may send more.
 */

/** A validator of T: the problems of `value`, as found at `path` (none: it is a T). */
export interface Check<T> {
  (value: unknown, path: string): string[];
  /** Never set: it only makes Check invariant in T (T is both taken and returned). */
  readonly type?: (value: T) => T;
}

function check<T>(fn: (value: unknown, path: string) => string[]): Check<T> {
  return fn as Check<T>;
}

const show = (value: unknown): string => {
  const text = typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

const expected = (what: string) => (value: unknown, path: string): string[] =>
  [`${path}: expected ${what}, got ${value === undefined ? "nothing" : show(value)}`];

export const str: Check<string> = check((v, p) => (typeof v === "string" ? [] : expected("a string")(v, p)));
export const num: Check<number> = check((v, p) =>
  (typeof v === "number" && Number.isFinite(v) ? [] : expected("a number")(v, p)));
export const int: Check<number> = check((v, p) => (Number.isInteger(v) ? [] : expected("an integer")(v, p)));
export const bool: Check<boolean> = check((v, p) => (typeof v === "boolean" ? [] : expected("true or false")(v, p)));

/** One of these strings (pass the `as const` array a union is made from). */
/** Any JSON value (a check's example row holds the dataset's own values). */
export const json: Check<unknown> = check((v, p) => (v === undefined ? expected("a value")(v, p) : []));

export function oneOf<const V extends readonly string[]>(values: V): Check<V[number]> {
  return check((v, p) => (typeof v === "string" && values.includes(v) ? []
    : [`${p}: ${show(v)} is not one of ${values.map((x) => JSON.stringify(x)).join(", ")}`]));
}

/** A key that may be missing (or undefined). */
export function opt<T>(item: Check<T>): Check<T | undefined> {
  return check((v, p) => (v === undefined ? [] : item(v, p)));
}

export function nullable<T>(item: Check<T>): Check<T | null> {
  return check((v, p) => (v === null ? [] : item(v, p)));
}

export function arr<T>(item: Check<T>): Check<T[]> {
  return check((v, p) => (Array.isArray(v) ? v.flatMap((x, i) => item(x, `${p}[${i}]`)) : expected("an array")(v, p)));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An object used as a map: any keys, each value an item. */
export function rec<T>(item: Check<T>): Check<Record<string, T>> {
  return check((v, p) => (isObject(v)
    ? Object.entries(v).flatMap(([k, x]) => item(x, `${p}[${JSON.stringify(k)}]`))
    : expected("an object")(v, p)));
}

export function tuple<A extends unknown[]>(...items: { [I in keyof A]: Check<A[I]> }): Check<A> {
  return check((v, p) => {
    if (!Array.isArray(v) || v.length !== items.length) return expected(`an array of ${items.length}`)(v, p);
    return items.flatMap((item, i) => (item as Check<unknown>)(v[i], `${p}[${i}]`));
  });
}

/** Both: an A that is also a B (an intersection, such as a payload and the key a stream adds). */
export function both<A, B>(a: Check<A>, b: Check<B>): Check<A & B> {
  return check((v, p) => [...a(v, p), ...b(v, p)]);
}

/** A validator for every key of T, optional keys included (their validators are `opt(…)`). */
export type Shape<T> = { [K in keyof Required<T>]: Check<T[K]> };

/** An object with (at least) T's keys, each valid. */
export function obj<T>(shape: Shape<T>): Check<T> {
  const checks = Object.entries(shape) as [string, Check<unknown>][];
  return check((v, p) => {
    if (!isObject(v)) return expected("an object")(v, p);
    return checks.flatMap(([k, item]) => {
      if (k in v) return item(v[k], `${p}.${k}`);
      return item(undefined, p).length ? [`${p}.${k}: missing`] : []; // only opt() takes none
    });
  });
}

/** The value as a T, or an error listing every problem (for fakes, which must be valid). */
export function valid<T>(item: Check<T>, value: unknown, what = "$"): T {
  const problems = item(value, what);
  if (problems.length) throw new TypeError(`not what the daemon sends:\n  ${problems.join("\n  ")}`);
  return value as T;
}
