// Generated from schemas/cli/policy-explain.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy explain FILE --op OP --json: the decision, canonical JSON (RFC 8785) on one line.
 */
export interface PolicyExplainOutput {
op: string
effect: ("ALLOW" | "CONSTRAIN" | "LOG" | "BLOCK")
reasons: {
code: string
message: string
rule?: string
}[]
refusal?: {
code: string
message: string
}
constraints: {

}[]
approval?: {
name: string
}
}
