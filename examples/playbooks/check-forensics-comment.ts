// Checks a collect-forensics incident comment against a proof bundle of the same job, exported then or later.
//
//   gsmcp proof export --job JOB -o job.proof.json && gsmcp proof verify job.proof.json
//   npx tsx examples/playbooks/check-forensics-comment.ts job.proof.json comment.txt     (or - for stdin)
//
// comment.txt is the comment as the portal shows it (copied text) or as the API returns it (properties.message).
// Exit 0: the bundle's first tree_size receipts hash to the comment's root and the comment's tree head signature
// verifies with a receipt_signers key of the bundle; 1: they do not; 2: unreadable input. `gsmcp proof verify` says
// whether the bundle itself is authentic (against your trust store); this says whether the comment matches it.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseBundle } from "../../src/receipts/verify-bundle.js";
import { checkDigest, type DigestCheck, parseDigestLine } from "../../src/server/forensics.js";

export function checkForensicsComment(bundleText: string, comment: string): DigestCheck {
  const claimed = parseDigestLine(comment);
  if (!claimed) return { ok: false, problems: ["the comment has no gsmcp-forensics/v1 digest line"] };
  return checkDigest(parseBundle(bundleText), claimed);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [bundleFile, commentFile] = process.argv.slice(2);
  if (!bundleFile || !commentFile) {
    process.stderr.write("usage: check-forensics-comment.ts BUNDLE.json COMMENT.txt|-\n");
    process.exit(2);
  }
  let r: DigestCheck;
  try {
    r = checkForensicsComment(
      readFileSync(bundleFile, "utf8"),
      readFileSync(commentFile === "-" ? 0 : commentFile, "utf8"),
    );
  } catch (e) {
    process.stderr.write(`check-forensics-comment: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (r.ok) process.stdout.write("ok: the comment's digest matches the bundle and its signature verifies\n");
  else for (const p of r.problems) process.stdout.write(`MISMATCH: ${p}\n`);
  process.exit(r.ok ? 0 : 1);
}
