import { chmodSync, existsSync, lstatSync, readdirSync, type Stats } from "node:fs";
import { join, relative } from "node:path";
import type { HomePaths } from "./home.js";

// Secrets at rest: GSMCP_HOME holds private keys, the operator token, unredacted prior state of writes (state.db),
// telemetry and proof bundles. The home and every directory in it are 0700, every file 0600: nothing in it is
// readable or writable by the group or others.

export const HOME_DIR_MODE = 0o700;
export const HOME_FILE_MODE = 0o600;

export interface PermissionProblem {
  /** Absolute path. */
  path: string;
  /** Path relative to the home ("." for the home itself), for messages. */
  name: string;
  kind: "directory" | "file" | "symlink" | "other";
  /** Permission bits found (mode & 0o777). */
  mode: number;
  severity: "unsafe" | "warn";
  message: string;
  /** A shell command that fixes it. */
  fix: string;
}

const octal = (m: number) => `0${(m & 0o777).toString(8).padStart(3, "0")}`;
const quote = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;

/** Every entry under the home (the home first), without following symlinks. */
function* walk(root: string): Generator<{ path: string; stat: Stats }> {
  const stack = [root];
  while (stack.length) {
    const path = stack.pop()!;
    const stat = lstatSync(path);
    yield { path, stat };
    if (stat.isDirectory()) for (const e of readdirSync(path).sort().reverse()) stack.push(join(path, e));
  }
}

/**
 * Makes the home owner-only: the home and its directories 0700, every file 0600, whether `init` wrote it or it was
 * there before. Symlinks are left alone (chmod would follow them out of the home); `findUnsafe` reports them.
 * Returns the paths whose mode changed.
 */
export function secureHome(paths: HomePaths): string[] {
  const changed: string[] = [];
  if (!existsSync(paths.root)) return changed;
  for (const { path, stat } of walk(paths.root)) {
    const want = stat.isDirectory() ? HOME_DIR_MODE : stat.isFile() ? HOME_FILE_MODE : undefined;
    if (want === undefined || (stat.mode & 0o777) === want) continue;
    chmodSync(path, want);
    changed.push(path);
  }
  return changed;
}

/**
 * What in the home others could read or change: a directory or file with any group/other permission bit is unsafe;
 * a symlink (its target is not checked) and an entry owned by another user are warnings.
 */
export function findUnsafe(paths: HomePaths): PermissionProblem[] {
  const problems: PermissionProblem[] = [];
  if (!existsSync(paths.root)) return problems;
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  for (const { path, stat } of walk(paths.root)) {
    const name = relative(paths.root, path) || ".";
    const mode = stat.mode & 0o777;
    const kind = stat.isDirectory()
      ? "directory"
      : stat.isFile()
        ? "file"
        : stat.isSymbolicLink()
          ? "symlink"
          : "other";
    if (kind === "symlink") {
      problems.push({
        path,
        name,
        kind,
        mode,
        severity: "warn",
        message: `${name} is a symlink: its target's permissions are not checked`,
        fix: `replace the link with the file itself, or check its target is owner-only (ls -lL ${quote(path)})`,
      });
      continue;
    }
    if ((mode & 0o077) !== 0) {
      const want = kind === "directory" ? HOME_DIR_MODE : HOME_FILE_MODE;
      const who = [mode & 0o070 ? "group" : "", mode & 0o007 ? "others" : ""].filter(Boolean).join(" and ");
      problems.push({
        path,
        name,
        kind,
        mode,
        severity: "unsafe",
        message: `${name} is ${octal(mode)}: ${kind === "directory" ? "open" : "readable or writable"} to ${who}`,
        fix: `chmod ${octal(want).slice(1)} ${quote(path)}`,
      });
    }
    if (uid !== undefined && stat.uid !== uid) {
      problems.push({
        path,
        name,
        kind,
        mode,
        severity: "warn",
        message: `${name} is owned by uid ${stat.uid}, not by this user (uid ${uid})`,
        fix: `chown $(id -u) ${quote(path)}`,
      });
    }
  }
  return problems;
}
