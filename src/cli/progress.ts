import { Presets, SingleBar } from "cli-progress";

/** One progress report from a long operation: `done` of `total` in a named phase (total 0: nothing to count). */
export interface ProgressReport {
  phase: string;
  done: number;
  total: number;
}

/** What a command hands to the long operation; `stop()` clears the bar (idempotent). */
export interface Progress {
  report(p: ProgressReport): void;
  stop(): void;
}

const NONE: Progress = { report: () => {}, stop: () => {} };

/** CI=true (or any value but "", "0", "false"): CI logs are not terminals, whatever they claim. */
function inCi(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
}

/**
 * Whether a bar is drawn: only on a terminal (stderr is a TTY that is not TERM=dumb), never with --quiet and never
 * under CI. Bars go to stderr, so stdout (the result, or --json) never carries them.
 */
export function progressEnabled(
  o: { quiet?: boolean },
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return !o.quiet && stream.isTTY === true && env.TERM !== "dumb" && !inCi(env);
}

/**
 * A progress bar on stderr for `label` (e.g. "proof verify"), or a no-op when progressEnabled is false. The bar shows
 * the phase and done/total; a phase with a new total restarts the bar at its own count (phases are reported honestly,
 * not blended into one invented percentage).
 */
export function startProgress(label: string, o: { quiet?: boolean }): Progress {
  if (!progressEnabled(o)) return NONE;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} {phase} [{bar}] {percentage}% {value}/{total} | {duration_formatted}`,
      // The terminal's modes are left alone (cursor shown, line wrapping on) and no SIGINT/SIGTERM handler is
      // installed (cli-progress's gracefulExit would keep the process alive after Ctrl+C, and a handler cannot run
      // during the synchronous parts anyway): an interrupt ends the command at once and leaves the terminal as it was.
      hideCursor: false,
      linewrap: true,
      gracefulExit: false,
      // Short enough for the terminal's width, so a redraw never wraps.
      barsize: Math.max(10, Math.min(40, (process.stderr.columns || 80) - label.length - 50)),
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let started = false;
  let phase = "";
  let stopped = false;
  return {
    report(p) {
      if (stopped) return;
      const total = Math.max(0, Math.floor(p.total));
      const done = Math.min(Math.max(0, Math.floor(p.done)), total);
      if (!started) {
        bar.start(total, done, { phase: p.phase });
        started = true;
      } else if (p.phase !== phase) {
        bar.setTotal(total);
        bar.update(done, { phase: p.phase });
      } else {
        if (bar.getTotal() !== total) bar.setTotal(total);
        bar.update(done);
      }
      // Long operations run mostly synchronously, so cli-progress's timer rarely gets to draw: a phase's first and last
      // states are drawn here, so every phase shows (a short one would otherwise pass between two frames unseen).
      if (p.phase !== phase || done === total) bar.render();
      phase = p.phase;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  };
}

/** Runs `fn` with a progress bar, stopping it (and clearing its line) whether `fn` succeeds or throws. */
export async function withProgress<T>(
  label: string,
  o: { quiet?: boolean },
  fn: (onProgress: (p: ProgressReport) => void) => Promise<T> | T,
): Promise<T> {
  const p = startProgress(label, o);
  try {
    return await fn((r) => p.report(r));
  } finally {
    p.stop();
  }
}
