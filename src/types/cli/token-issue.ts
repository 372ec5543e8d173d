// Generated from schemas/cli/token-issue.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp token issue ... --json: the token (absent with -o, which writes it to file instead) and what it allows.
 */
export interface TokenIssueOutput {
token?: string
file?: string
job: string
agent: string
scope: string[]
ttl: number
policy_hash: string
}
