// Generated from schemas/cli/policy-role.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy role FILE --json: the Azure custom roles the policy's allowed ops need (the read role, then the write role when the policy has writes), the ARM template and Bicep that assign them at workspace scope, and the files written with -o.
 */
export interface PolicyRoleOutput {
policy_name: string
policy_hash: string
roles: {
kind: ("read" | "write")
/**
 * An Azure custom role as `az role definition create --role-definition FILE` takes it.
 */
definition: {
Name: string
IsCustom: true
Description: string
Actions: string[]
NotActions: string[]
DataActions: string[]
NotDataActions: string[]
AssignableScopes: string[]
}
}[]
/**
 * ARM template (resource-group deployment); its schema is Azure's.
 */
arm: {

}
bicep: string
/**
 * With -o DIR: the files written.
 */
files?: string[]
}
