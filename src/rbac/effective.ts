import { KNOWN_OPERATIONS, type OperationKind } from "./operations.js";

// What an identity may do, against what a policy needs. Pure: permissions in, findings out.
//
// Azure's rules (learn.microsoft.com/azure/role-based-access-control/role-definitions): operation strings compare
// case-insensitively; `*` in a string matches any run of characters (also across `/`); each permission entry (one per
// role assignment in the permissions API's answer) grants its Actions minus its NotActions, and its DataActions minus
// its NotDataActions; entries add up, so a NotActions of one role does not take away what another role grants.

/** One entry of `GET …/providers/Microsoft.Authorization/permissions`, as Azure answers it. */
export interface AzurePermission {
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

/** One operation a policy needs, with the tools (op ids) that need it. */
export interface NeededOperation {
  name: string;
  kind: OperationKind;
  tools: string[];
  /** Needed only by a rollback of these tools. */
  rollbackOnly?: boolean;
}

export type Danger = "critical" | "high" | "medium" | "low";

export interface MissingFinding {
  name: string;
  kind: OperationKind;
  /** The op ids that will fail without it. */
  tools: string[];
  rollbackOnly?: boolean;
}

export interface ExcessFinding {
  /** The granted string: a concrete operation, or a pattern (with `*`) no need explains. */
  name: string;
  kind: OperationKind;
  danger: Danger;
  /** Why it is that dangerous, one line. */
  why: string;
  /** For a pattern: how many operations we know it grants beyond the need. */
  covers?: number;
}

export interface PermissionComparison {
  missing: MissingFinding[];
  /** Dangerous first (critical, high, medium, low), then by name. */
  excess: ExcessFinding[];
}

/** Wildcard match, case-insensitive, `*` = any run of characters. Linear in the lengths (no regular expressions). */
export function matchesOperation(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const s = name.toLowerCase();
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] !== "*" && p[pi] === s[si]) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

const grantsOf = (p: AzurePermission, kind: OperationKind) =>
  kind === "action" ? [p.actions ?? [], p.notActions ?? []] : [p.dataActions ?? [], p.notDataActions ?? []];

/** Whether the permissions allow one concrete operation. */
export function isAllowed(perms: readonly AzurePermission[], name: string, kind: OperationKind = "action"): boolean {
  return perms.some((p) => {
    const [grant, deny] = grantsOf(p, kind);
    return grant!.some((g) => matchesOperation(g, name)) && !deny!.some((n) => matchesOperation(n, name));
  });
}

const RANK: Record<Danger, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Actions that only read (list or query), though Azure names them /action because the API uses POST. */
const READ_LIKE =
  /\/(query|queryindicators|metrics|count|getinsights|gettimeline|expand|alerts|entities|listactions)\/action$|\/dataconnectorscheckrequirements\/action$/;

/**
 * How much harm an operation (or a pattern) does in the wrong hands, judged from its name. Role assignment and the
 * workspace's keys, data and existence are critical; changing what detects or responds (rules, automation,
 * connectors, settings, watchlists, saved searches, TI) is high; other writes, deletes and actions, and reading data
 * past table-level access, are medium; reads are low. A bare wildcard pattern is judged on its text: `*` and
 * provider-wide wildcards are critical.
 */
export function dangerOf(name: string): { danger: Danger; why: string } {
  const n = name.toLowerCase();
  if (n === "*" || n === "*/*") return { danger: "critical", why: "every operation on every resource at this scope" };
  if (/^microsoft\.authorization\/(\*|roleassignments|roledefinitions|elevateaccess)/.test(n) && !/\/read$/.test(n))
    return { danger: "critical", why: "can grant roles: any identity, any permission at this scope" };
  if (/^microsoft\.[a-z]+\/\*$/.test(n) && !/^microsoft\.support\//.test(n))
    return { danger: "critical", why: "every operation of the provider, including deletes and future operations" };
  if (
    /^microsoft\.operationalinsights\/workspaces\/(\*$|sharedkeys\/|listkeys|regeneratesharedkey|purge|delete$|write$|dataexports\/(write|\*)|tables\/(write|delete|\*)|linkedservices\/(write|\*)|storageinsightconfigs\/write)/.test(
      n,
    )
  )
    return {
      danger: "critical",
      why: "workspace keys, data purge or export, tables or the workspace itself: tampering with the evidence",
    };
  if (/^microsoft\.operationalinsights\/workspaces\/(analytics\/query|search)\/action$/.test(n))
    return { danger: "medium", why: "queries any table, past the table-level read access the policy sets" };
  if (READ_LIKE.test(n)) return { danger: "low", why: "reads beyond what the policy needs" };
  if (!/\/read$/.test(n)) {
    if (
      /^microsoft\.securityinsights\/(\*|(alertrules|automationrules|dataconnectors|settings|onboardingstates|confidentialwatchlists|threatintelligence|sourcecontrols|securitymlanalyticssettings|contentpackages|metadata|exportconnections|workspacemanager[a-z]*)(\/|$)|watchlists\/(\*|write|delete))/.test(
        n,
      ) ||
      /^microsoft\.operationalinsights\/workspaces\/(savedsearches|datasources|searchjobs|restorelogs)(\/|$)/.test(n)
    )
      return {
        danger: "high",
        why: "changes what detects, collects or responds (rules, automation, connectors, settings, saved queries, TI)",
      };
    if (/^microsoft\.resources\/deployments/.test(n))
      return { danger: "medium", why: "can start deployments (each still needs the deployed resources' permissions)" };
    if (/\/(write|delete|action|\*)$/.test(n) || n.endsWith("*"))
      return { danger: "medium", why: "changes state or runs an action beyond the policy" };
  }
  if (/confidentialwatchlist/.test(n))
    return { danger: "medium", why: "reads confidential watchlists the policy does not need" };
  return { danger: "low", why: "reads beyond what the policy needs" };
}

const byDanger = (a: ExcessFinding, b: ExcessFinding) =>
  RANK[a.danger] - RANK[b.danger] || a.name.toLowerCase().localeCompare(b.name.toLowerCase());

/**
 * Compares what the identity may do with what the policy needs. Missing: needed operations it may not do, with the
 * tools that will fail. Excess: every granted string (per permission entry, Actions and DataActions) that grants
 * something the policy does not need — judged on the operations we know (src/rbac/operations.ts) and, for a pattern
 * that matches none we know, on the pattern itself (a wildcard the need does not explain is excess: it grants
 * whatever the provider adds next).
 */
export function comparePermissions(
  perms: readonly AzurePermission[],
  needs: readonly NeededOperation[],
): PermissionComparison {
  const missing: MissingFinding[] = needs
    .filter((n) => !isAllowed(perms, n.name, n.kind))
    .map((n) => ({
      name: n.name,
      kind: n.kind,
      tools: [...n.tools],
      ...(n.rollbackOnly ? { rollbackOnly: true } : {}),
    }));

  const needed = (name: string, kind: OperationKind) =>
    needs.some((n) => n.kind === kind && matchesOperation(n.name, name));
  const excess = new Map<string, ExcessFinding>();
  for (const kind of ["action", "dataAction"] as const) {
    const universe = KNOWN_OPERATIONS.filter((o) => o.kind === kind);
    for (const p of perms) {
      const [grant, deny] = grantsOf(p, kind);
      for (const g of grant!) {
        const key = `${kind}:${g.toLowerCase()}`;
        if (excess.has(key)) continue;
        const granted = universe.filter(
          (o) => matchesOperation(g, o.name) && !deny!.some((d) => matchesOperation(d, o.name)),
        );
        const extra = granted.filter((o) => !needed(o.name, kind));
        const wildcard = g.includes("*");
        // A concrete string is excess when nothing needs it; a pattern when it grants a known operation nothing needs,
        // or when it matches nothing we know and no need explains it.
        const unexplained = wildcard
          ? extra.length > 0 || (granted.length === 0 && !needed(g, kind))
          : !needed(g, kind);
        if (!unexplained) continue;
        // As dangerous as the worst operation it grants beyond the need (named), else as its own text says.
        const worst = extra
          .map((o) => ({ ...dangerOf(o.name), op: o.name }))
          .sort((a, b) => RANK[a.danger] - RANK[b.danger])[0];
        const own = dangerOf(g);
        const judged = !worst
          ? own
          : !wildcard
            ? worst
            : RANK[own.danger] <= RANK[worst.danger]
              ? own
              : { danger: worst.danger, why: `${worst.why} (e.g. ${worst.op})` };
        excess.set(key, {
          name: g,
          kind,
          danger: judged.danger,
          why: judged.why,
          ...(wildcard ? { covers: extra.length } : {}),
        });
      }
    }
  }
  return { missing, excess: [...excess.values()].sort(byDanger) };
}
