import pkg from "../package.json" with { type: "json" };

/** The server's version, from package.json: the one place it is written. */
export const VERSION: string = pkg.version;
