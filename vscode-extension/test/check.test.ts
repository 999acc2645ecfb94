/**
 * The validators' combinators: each problem at its JSON path, extra keys allowed — and, at
 * compile time (`npm run typecheck` runs over this file), a validator that does not match its
 * type exactly is an error: each `@ts-expect-error` below fails the type check if the mismatch
 * under it ever stops being one.
 */
import { describe, expect, it } from "vitest";

import { arr, bool, int, nullable, num, obj, oneOf, opt, rec, str, tuple, valid } from "./check";

const KINDS = ["source", "dataset"] as const;

interface Node {
  name: string;
  kind: (typeof KINDS)[number];
  zone: string | null;
  rows?: number;
  schema: [string, boolean][];
  reasons: Record<string, string[]>;
}

const node = obj<Node>({
  name: str, kind: oneOf(KINDS), zone: nullable(str), rows: opt(int),
  schema: arr(tuple(str, bool)), reasons: rec(arr(str)),
});

const good = { name: "a", kind: "dataset", zone: null, schema: [["x", true]], reasons: { a: ["new"] } };

describe("validators", () => {
  it("accept what has the type, extra keys included", () => {
    expect(node(good, "$")).toEqual([]);
    expect(node({ ...good, rows: 3, added_later: { any: "thing" } }, "$")).toEqual([]);
  });

  it("say what is wrong where: a missing key, a wrong type, an unknown enum value", () => {
    const { name: _, ...nameless } = good;
    expect(node(nameless, "$")).toEqual(["$.name: missing"]);
    expect(node({ ...good, zone: 3 }, "$")).toEqual(["$.zone: expected a string, got 3"]);
    expect(node({ ...good, kind: "table" }, "$")).toEqual(['$.kind: "table" is not one of "source", "dataset"']);
    expect(node({ ...good, rows: 1.5 }, "$")).toEqual(["$.rows: expected an integer, got 1.5"]);
    expect(node({ ...good, schema: [["x", "yes"]] }, "$")).toEqual(['$.schema[0][1]: expected true or false, got "yes"']);
    expect(node({ ...good, schema: [["x"]] }, "$")).toEqual(['$.schema[0]: expected an array of 2, got ["x"]']);
    expect(node({ ...good, reasons: { a: [1] } }, "$")).toEqual(['$.reasons["a"][0]: expected a string, got 1']);
    expect(arr(node)([good, { ...good, zone: undefined }], "$")).toEqual(["$[1].zone: expected a string, got nothing"]);
    expect(num(Number.NaN, "$")).toEqual(["$: expected a number, got NaN"]);
  });

  it("make a fake that is not what the daemon sends an error, listing every problem", () => {
    expect(valid(node, good)).toBe(good);
    expect(() => valid(node, { ...good, kind: "table", zone: 1 })).toThrow(
      /not what the daemon sends:\n {2}\$\.kind: "table" is not one of "source", "dataset"\n {2}\$\.zone: expected a string, got 1/);
  });

  it("must match their type exactly, or the type check fails", () => {
    const shape = { name: str, kind: oneOf(KINDS), zone: nullable(str), rows: opt(int), schema: arr(tuple(str, bool)), reasons: rec(arr(str)) };
    // @ts-expect-error a key of the type without its validator
    obj<Node>({ name: str, kind: oneOf(KINDS), zone: nullable(str), rows: opt(int), schema: arr(tuple(str, bool)) });
    // @ts-expect-error a validator for a key the type does not have
    obj<Node>({ ...shape, format: str });
    // @ts-expect-error `string | null` validated as a string
    obj<Node>({ ...shape, zone: str });
    // @ts-expect-error an optional key validated as a required one
    obj<Node>({ ...shape, rows: int });
    // @ts-expect-error a required key validated as an optional one
    obj<Node>({ ...shape, name: opt(str) });
    // @ts-expect-error an enum with a value the type does not have
    obj<Node>({ ...shape, kind: oneOf(["source", "dataset", "folder"] as const) });
    // @ts-expect-error an enum without a value the type has
    obj<Node>({ ...shape, kind: oneOf(["source"] as const) });
    // @ts-expect-error a tuple of other types
    obj<Node>({ ...shape, schema: arr(tuple(str, str)) });
    expect(obj<Node>(shape)(good, "$")).toEqual([]);
  });
});
