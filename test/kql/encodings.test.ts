import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/index.js";
import { source } from "./fixtures.js";

// The encoding functions, checked against Kusto's documented results.
const one = (expr: string) => executeKql(`print x = ${expr}`, source([])).rows[0]![0];

describe("encoding functions", () => {
  it("base64 round-trips UTF-8 and answers empty for bytes that are not UTF-8", () => {
    expect(one("base64_encode_tostring('Kusto1')")).toBe("S3VzdG8x");
    expect(one("base64_decode_tostring('S3VzdG8x')")).toBe("Kusto1");
    expect(one("base64_decode_tostring(base64_encode_tostring('ünï©ødé'))")).toBe("ünï©ødé");
    expect(one("base64_decode_tostring('8J+Y')")).toBe("");
    expect(one("base64_decode_tostring('not base64!')")).toBe("");
  });

  it("reverse, url_encode/url_decode, code points, strcat_array, tohex", () => {
    expect(one("reverse('123456')")).toBe("654321");
    expect(one("reverse('')")).toBe("");
    expect(one("url_encode('https://www.bing.com/?q=a b')")).toBe("https%3A%2F%2Fwww.bing.com%2F%3Fq%3Da%20b");
    expect(one("url_decode('https%3a%2f%2fwww.bing.com%2f')")).toBe("https://www.bing.com/");
    expect(one("unicode_codepoints_from_string('⒦⒰⒮⒯⒪')")).toEqual([9382, 9392, 9390, 9391, 9386]);
    expect(one("unicode_codepoints_to_string(75, 117, 115)")).toBe("Kus");
    expect(one("unicode_codepoints_to_string(dynamic([75, 117]), 115)")).toBe("Kus");
    expect(one("strcat_array(dynamic([1, 2, 3]), '->')")).toBe("1->2->3");
    expect(one("tohex(256)")).toBe("100");
    expect(one("tohex(-256)")).toBe("ffffffffffffff00");
    expect(one("tohex(256, 8)")).toBe("00000100");
  });
});
