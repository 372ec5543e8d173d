// Every page is built from this one template tag: interpolated values are escaped unless they are markup the tag
// itself produced. Sentinel-sourced text (incident titles, comments, rule queries) is attacker-influenced, so there is
// no way to put a plain string into a page unescaped.

export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

function part(value: unknown): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(part).join("");
  if (value === undefined || value === null || value === false) return "";
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? "");
  });
  return new Markup(out);
}

export interface Viewer {
  name: string;
  roles: string[];
}

const NAV: [href: string, label: string][] = [
  ["/approvals", "Approvals"],
  ["/jobs", "Jobs"],
  ["/policies", "Policies"],
  ["/manifests", "Tool manifests"],
];

/** The page frame: navigation, who is signed in, a sign-out form (POST with the session's CSRF token). */
export function layout(title: string, body: Markup, viewer?: Viewer, csrf?: string, active?: string): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — gsmcp console</title>
<link rel="stylesheet" href="/console.css"></head>
<body>
<header><a class="brand" href="/approvals">gsmcp console</a>
${
  viewer
    ? html`<nav aria-label="Main">${NAV.map(([href, label]) => html`<a href="${href}"${active === href ? new Markup(' aria-current="page"') : ""}>${label}</a>`)}</nav>
<form method="post" action="/logout" class="who"><span id="viewer">${viewer.name}</span> <span class="roles">(${viewer.roles.join(", ") || "no role"})</span>
<input type="hidden" name="csrf_token" value="${csrf ?? ""}"><button type="submit">Sign out</button></form>`
    : ""
}
</header>
<main id="main">
<h1>${title}</h1>
${body}
</main></body></html>`}`;
}

export const CONSOLE_CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.5rem;background:#0b3d62;color:#fff}
header a{color:#fff}header nav{display:flex;gap:1rem}header nav a[aria-current]{font-weight:700;text-decoration:underline}
.brand{font-weight:700;text-decoration:none}.who{margin-left:auto}.who button{margin-left:.5rem}
main{padding:1rem 1.5rem;max-width:1200px}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.changed{background:#fff8c5}.added{background:#dafbe1}.removed{background:#ffebe9}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:4px;background:#eaeef2}
.pending{background:#fff8c5}.approved,.consumed,.ok{background:#dafbe1}.denied,.expired,.bad{background:#ffebe9}
.untrusted{border-left:4px solid #bf8700;padding:.2rem .8rem;background:#fffbe6}
.error{border-left:4px solid #a40e26;padding:.4rem .8rem;background:#ffebe9}
.notice{border-left:4px solid #116329;padding:.4rem .8rem;background:#dafbe1}
pre,code{font-size:12px;white-space:pre-wrap;word-break:break-word}
form.decide{display:grid;gap:.5rem;max-width:40rem;margin-top:1rem}form.decide .buttons{display:flex;gap:1rem}
label{font-weight:600}input[type=text],textarea,select{font:inherit;padding:.3rem}
button{font:inherit;padding:.3rem .9rem;cursor:pointer}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
`;
