"""The API reference page: self-contained (no CDN), it renders /openapi.json in the browser.

Its script and style are inline and allowed by hash, so the page needs no other origin.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
details { border: 1px solid #ccc; border-radius: 6px; margin: .5rem 0; padding: .4rem .8rem; }
summary { cursor: pointer; font-family: ui-monospace, monospace; }
.method { display: inline-block; min-width: 4.5rem; font-weight: bold; }
table { border-collapse: collapse; margin: .4rem 0; }
td, th { border: 1px solid #ddd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
code { font-family: ui-monospace, monospace; }
"""

SCRIPT = """
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};
const table = (head, rows) => {
  const t = el("table"), tr = el("tr");
  head.forEach(h => tr.append(el("th", h)));
  t.append(tr);
  rows.forEach(r => { const row = el("tr"); r.forEach(c => row.append(el("td", c))); t.append(row); });
  return t;
};
const rule = s => JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "type")));
const render = doc => {
  const open = document.body.dataset.open === "true", main = document.getElementById("ops");
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const box = el("details"), head = el("summary");
      box.open = open;
      head.append(el("span", method.toUpperCase(), "method"), el("code", path), el("span", " " + op.summary));
      box.append(head, el("p", op.description));
      if (op.parameters.length) box.append(el("h4", "Parameters"), table(["name", "in", "type", "rules"],
        op.parameters.map(p => [p.name, p.in, p.schema.type, p.description || rule(p.schema)])));
      const body = op.requestBody && op.requestBody.content["application/json"].schema;
      if (body) box.append(el("h4", "JSON body"), table(["field", "type", "required", "rules"],
        Object.entries(body.properties).map(([n, s]) =>
          [n, s.type, (body.required || []).includes(n) ? "yes" : "no", rule(s)])));
      box.append(el("h4", "Responses"), table(["status", "meaning"],
        Object.entries(op.responses).map(([code, r]) => [code, r.description])));
      main.append(box);
    }
  }
};
fetch("/openapi.json").then(r => r.json()).then(render);
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP = (
    f"default-src 'none'; script-src {_hash(SCRIPT)}; style-src {_hash(STYLE)}; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def page(*, expanded: bool) -> str:
    """The reference page; `expanded` opens every operation (the /redoc reading layout)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>API reference</title>"
        f"<style>{STYLE}</style></head>"
        f'<body data-open="{str(expanded).lower()}"><h1 id="title">API reference</h1>'
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p><main id="ops"></main>'
        f"<script>{SCRIPT}</script></body></html>"
    )
