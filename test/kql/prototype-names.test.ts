import { describe, expect, it } from "vitest";
import { KqlError } from "../../src/kql/errors.js";
import { run } from "./fixtures.js";

// Names that exist on every plain JavaScript object. A query naming one as a function, type, unit or parse type must
// get a KQL error (or a result), never a crash from finding Object's own member in a lookup table.
const NAMES = Object.getOwnPropertyNames(Object.prototype);

describe("names from Object.prototype in queries", () => {
  it.each(NAMES)("%s() as a function, a type and a parse type is a KQL error, not a crash", (name) => {
    for (const q of [
      `print x = ${name}()`,
      `print x = ${name}(1, 2)`,
      `datatable(a: ${name}) [1]`,
      `print s = "a 1" | parse s with k " " v:${name}`,
      `print t = 1${name}`,
    ]) {
      let err: unknown;
      try {
        run(q);
      } catch (e) {
        err = e;
      }
      if (err !== undefined) expect(err, `${q}: ${String(err)}`).toBeInstanceOf(KqlError);
    }
  });
});
