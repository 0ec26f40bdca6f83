// Nimbus console: a dependency-free single-page app over /_nimbus/console/api/.
// DOM is built with createElement/textContent only, so no user data is ever parsed as HTML.
"use strict";

const API = "/_nimbus/console/api/";
const SVG_NS = "http://www.w3.org/2000/svg";

// ---- small helpers -------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (method !== "GET") init.headers["X-Nimbus-Console"] = "1";
  if (body !== undefined) init.body = body;
  const resp = await fetch(API + path, init);
  let data = null;
  try {
    data = await resp.json();
  } catch (_) {
    data = null;
  }
  if (!resp.ok) {
    const code = (data && data.code) || "Error";
    const message = (data && data.message) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, code, message);
  }
  return data;
}

const enc = encodeURIComponent;
function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") parts.push(`${enc(k)}=${enc(v)}`);
  }
  return parts.length ? "?" + parts.join("&") : "";
}

function fmtTime(value) {
  if (value === undefined || value === null || value === "") return "";
  const d = typeof value === "number" ? new Date(value) : new Date(value);
  if (isNaN(d)) return String(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fmtBytes(n) {
  if (n === undefined || n === null) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function fmtNumber(v) {
  if (Math.abs(v) >= 1000) return (v / 1000).toFixed(1) + "k";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 10 ? 2 : 1);
}

function statusBadge(status) {
  const s = String(status || "");
  let kind = "";
  if (/FAILED|ROLLBACK|ERROR|Unhandled|Handled|Failed|Inactive/.test(s)) kind = "bad";
  else if (/IN_PROGRESS|Pending/.test(s)) kind = "warn";
  else if (/COMPLETE|Active|ACTIVE|Successful|200/.test(s)) kind = "ok";
  return h("span", { class: `badge ${kind}` }, s);
}

function loading(text = "Loading…") {
  return h("div", { class: "loading" }, h("span", { class: "spinner" }), text);
}

function errorBox(err) {
  const text = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err.message || err);
  return h("div", { class: "error-box", role: "alert" }, text);
}

function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

function dataTable(columns, rows, { empty = "Nothing here yet.", testid } = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", {}, c.label)));
  const body = rows.length
    ? rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.wrap ? "wrap" : "" }, c.cell(r)))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty))];
  return h("div", { class: "table-wrap" },
    h("table", { class: "data", "data-testid": testid }, h("thead", {}, head), h("tbody", {}, body)));
}

function props(pairs) {
  return h("dl", { class: "props" }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function pageHead(title, crumbs, ...actions) {
  return h("div", { class: "page-head" },
    h("div", { style: null }, crumbs ? h("div", { class: "crumbs" }, crumbs) : null, h("h1", {}, title)),
    actions.length ? h("div", { class: "row" }, actions) : null);
}

function jsonText(value) {
  return JSON.stringify(value, null, 2);
}

// A region of the page that shows a spinner while its loader runs, then the result or error.
async function fill(container, loader) {
  container.replaceChildren(loading());
  try {
    const nodes = [].concat(await loader()).flat(Infinity).filter((n) => n !== null && n !== undefined);
    container.replaceChildren(...nodes);
  } catch (err) {
    container.replaceChildren(errorBox(err));
  }
}

// ---- charts (inline SVG) -------------------------------------------------------------------
function lineChart(title, points, { start, end, unit, kind = "" }) {
  const W = 320, H = 140, L = 36, R = 8, T = 10, B = 22;
  const max = Math.max(1, ...points.map((p) => p[1]));
  const x = (t) => L + ((t - start) / Math.max(1, end - start)) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const chart = svg("svg", {
    class: `chart ${kind}`, viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `${title} chart`, "data-points": points.length,
  });
  chart.append(
    svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
    svg("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, fmtNumber(max)),
    svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"),
    svg("text", { x: L, y: H - 6 }, fmtTime(start).slice(11, 16)),
    svg("text", { x: W - R, y: H - 6, "text-anchor": "end" }, fmtTime(end).slice(11, 16)),
  );
  if (points.length) {
    const coords = points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    const first = x(points[0][0]).toFixed(1), last = x(points[points.length - 1][0]).toFixed(1);
    chart.append(
      svg("polygon", { class: "area", points: `${first},${H - B} ${coords.join(" ")} ${last},${H - B}` }),
      svg("polyline", { class: "line", points: coords.join(" ") }),
    );
    for (const [t, v] of points) {
      const dot = svg("circle", { class: "point", cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 3 });
      dot.append(svg("title", {}, `${fmtTime(t)}: ${fmtNumber(v)} ${unit}`));
      chart.append(dot);
    }
  } else {
    chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "No data in this period"));
  }
  const total = points.reduce((s, p) => s + p[1], 0);
  const summary = unit === "Milliseconds"
    ? (points.length ? `avg ${fmtNumber(total / points.length)} ms` : "")
    : `${fmtNumber(total)} total`;
  return h("div", { class: "card chart-card", "data-metric": title },
    h("div", { class: "chart-title" }, title, h("span", { class: "muted" }, summary)), chart);
}

// ---- views ---------------------------------------------------------------------------------
const views = {};

views.stacks = async (view, name) => {
  if (name) return stackDetail(view, name);
  view.append(pageHead("Stacks", null));
  const body = h("div", {});
  view.append(card(null, body));
  await fill(body, async () => {
    const { stacks } = await api("stacks");
    return dataTable([
      { label: "Name", cell: (s) => h("a", { href: `#/stacks/${enc(s.StackName)}` }, s.StackName) },
      { label: "Status", cell: (s) => statusBadge(s.StackStatus) },
      { label: "Created", cell: (s) => fmtTime(s.CreationTime) },
      { label: "Updated", cell: (s) => fmtTime(s.LastUpdatedTime) },
    ], stacks, { empty: "No stacks. Deploy one with `nimbus deploy`.", testid: "stacks" });
  });
};

async function stackDetail(view, name) {
  view.append(pageHead(name, h("a", { href: "#/stacks" }, "Stacks")));
  const body = h("div", { class: "stack" });
  view.append(body);
  const mine = generation;
  await fill(body, async () => {
    const { stack, resources, events } = await api(`stacks/${enc(name)}`);
    // A deployment in progress: look again shortly while this page is still the one shown.
    if (/IN_PROGRESS$/.test(stack.StackStatus)) {
      setTimeout(() => { if (mine === generation) route(); }, 2000);
    }
    const outputs = stack.Outputs || [];
    return [
      card("Overview", props([
        ["Status", statusBadge(stack.StackStatus)],
        ["Reason", stack.StackStatusReason],
        ["Created", fmtTime(stack.CreationTime)],
        ["Stack id", h("span", { class: "mono" }, stack.StackId)],
      ])),
      outputs.length ? card("Outputs", dataTable([
        { label: "Key", cell: (o) => o.OutputKey },
        { label: "Value", cell: (o) => h("span", { class: "mono" }, o.OutputValue), wrap: true },
      ], outputs)) : null,
      card("Resources", dataTable([
        { label: "Logical id", cell: (r) => r.LogicalResourceId },
        { label: "Type", cell: (r) => r.ResourceType },
        { label: "Physical id", cell: (r) => h("span", { class: "mono" }, r.PhysicalResourceId || "") },
        { label: "Status", cell: (r) => statusBadge(r.ResourceStatus) },
      ], resources, { testid: "stack-resources" })),
      card("Events", dataTable([
        { label: "Time", cell: (e) => fmtTime(e.Timestamp) },
        { label: "Logical id", cell: (e) => e.LogicalResourceId },
        { label: "Status", cell: (e) => statusBadge(e.ResourceStatus) },
        { label: "Reason", cell: (e) => e.ResourceStatusReason || "", wrap: true },
      ], events, { testid: "stack-events" })),
    ];
  });
}

views.functions = async (view, name) => {
  if (name) return functionDetail(view, name);
  view.append(pageHead("Functions", null));
  const body = h("div", {});
  view.append(card(null, body));
  await fill(body, async () => {
    const { functions } = await api("functions");
    return dataTable([
      { label: "Name", cell: (f) => h("a", { href: `#/functions/${enc(f.FunctionName)}` }, f.FunctionName) },
      { label: "Runtime", cell: (f) => f.Runtime || f.PackageType || "" },
      { label: "Memory", cell: (f) => `${f.MemorySize} MB` },
      { label: "Timeout", cell: (f) => `${f.Timeout} s` },
      { label: "Modified", cell: (f) => fmtTime(f.LastModified) },
    ], functions, { empty: "No functions yet.", testid: "functions" });
  });
};

async function functionDetail(view, name) {
  view.append(pageHead(name, h("a", { href: "#/functions" }, "Functions")));
  const config = h("div", {});
  const payload = h("textarea", { id: "invoke-payload", spellcheck: "false", "aria-label": "Event payload" });
  payload.value = "{}";
  const button = h("button", { class: "primary", type: "submit", id: "invoke-button" }, "Invoke");
  const result = h("div", { id: "invoke-result" });
  const charts = h("div", { class: "grid", id: "charts" });
  const logs = h("div", { id: "function-logs" });

  // Minutes shown -> seconds per point (at most a few hundred points per chart).
  const ranges = { 15: 60, 60: 60, 360: 300, 1440: 900 };
  const chartRange = h("select", { id: "chart-range", "aria-label": "Chart time range",
    onchange: () => refreshCharts() },
  [["15", "Last 15 minutes"], ["60", "Last hour"], ["360", "Last 6 hours"], ["1440", "Last 24 hours"]]
    .map(([v, l]) => h("option", { value: v }, l)));
  chartRange.value = "60";
  const refreshCharts = () => fill(charts, async () => {
    const minutes = chartRange.value;
    const m = await api(`functions/${enc(name)}/metrics${qs({ minutes, period: ranges[minutes] })}`);
    const opts = { start: m.start, end: m.end };
    return [
      lineChart("Invocations", m.series.invocations, { ...opts, unit: "Count" }),
      lineChart("Errors", m.series.errors, { ...opts, unit: "Count", kind: "errors" }),
      lineChart("Duration", m.series.duration, { ...opts, unit: "Milliseconds" }),
    ];
  });
  const refreshLogs = () => fill(logs, async () => {
    const { events } = await api(`functions/${enc(name)}/logs?limit=100`);
    return logList(events, "No log events yet. Invoke the function to see some.", { follow: true });
  });

  const form = h("form", {
    class: "stack",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        JSON.parse(payload.value || "{}");
      } catch (err) {
        result.replaceChildren(errorBox(new Error(`The payload is not valid JSON: ${err.message}`)));
        return;
      }
      button.disabled = true;
      button.replaceChildren(h("span", { class: "spinner" }), "Invoking…");
      await fill(result, async () => {
        const r = await api(`functions/${enc(name)}/invoke`, { method: "POST", body: payload.value || "{}" });
        return invokeResult(r);
      });
      button.disabled = false;
      button.replaceChildren("Invoke");
      // Metrics and logs are written in a batch just after the invocation returns.
      setTimeout(() => { refreshCharts(); refreshLogs(); }, 400);
    },
  }, payload, h("div", { class: "row" }, button), result);

  view.append(h("div", { class: "stack" },
    h("div", { class: "grid" }, card("Configuration", config), card("Test invoke", form)),
    h("section", {}, h("div", { class: "page-head" }, h("h2", {}, "Metrics"),
      h("div", { class: "row" }, chartRange,
        h("button", { type: "button", id: "charts-refresh", onclick: () => refreshCharts() }, "Refresh"))),
    charts),
    card(null, h("div", { class: "page-head" }, h("h2", {}, "Recent logs"),
      h("div", { class: "row" },
        h("a", { class: "button", href: `#/logs${qs({ group: `/aws/lambda/${name}` })}` }, "Search logs"),
        h("button", { type: "button", onclick: () => refreshLogs() }, "Refresh"))), logs),
  ));
  await Promise.all([
    fill(config, async () => {
      const { configuration: c } = await api(`functions/${enc(name)}`);
      const env = (c.Environment && c.Environment.Variables) || {};
      return props([
        ["State", statusBadge(c.State)],
        ["Runtime", c.Runtime],
        ["Handler", h("span", { class: "mono" }, c.Handler || "")],
        ["Memory", `${c.MemorySize} MB`],
        ["Timeout", `${c.Timeout} s`],
        ["Role", h("span", { class: "mono" }, c.Role || "")],
        ["Modified", fmtTime(c.LastModified)],
        ["Code size", fmtBytes(c.CodeSize)],
        ["Environment", Object.keys(env).length
          ? h("span", { class: "mono" }, Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n")) : ""],
      ]);
    }),
    refreshCharts(),
    refreshLogs(),
  ]);
}

function invokeResult(r) {
  const failed = Boolean(r.functionError);
  return [
    h("div", { class: "result-head" },
      statusBadge(String(r.statusCode)),
      failed ? h("span", { class: "badge bad", id: "function-error" }, `FunctionError: ${r.functionError}`)
        : h("span", { class: "badge ok" }, "Succeeded"),
      h("span", { class: "muted" }, `${r.elapsedMs} ms`)),
    h("h2", {}, "Response"),
    h("pre", { class: "block", id: "invoke-payload-result" },
      r.payload !== null && r.payload !== undefined ? jsonText(r.payload) : r.payloadText),
    r.log ? [h("h2", {}, "Log tail"), h("pre", { class: "block light", id: "invoke-log" }, r.log)] : null,
  ];
}

function logList(events, empty, { follow = false } = {}) {
  if (!events.length) return h("div", { class: "empty" }, empty);
  const list = h("div", { class: "log-list" }, events.map((e) =>
    h("div", { class: "log-line" },
      h("span", { class: "ts", title: e.logStreamName || null }, fmtTime(e.timestamp)),
      h("span", { class: "msg" }, e.message.replace(/\n$/, "")))));
  // Recent logs read like a terminal: oldest on top, scrolled to the newest line.
  if (follow) requestAnimationFrame(() => { list.scrollTop = list.scrollHeight; });
  return list;
}

views.tables = async (view, name) => {
  if (name) return tableDetail(view, name);
  view.append(pageHead("Tables", null));
  const body = h("div", {});
  view.append(card(null, body));
  await fill(body, async () => {
    const { tables } = await api("tables");
    return dataTable([
      { label: "Name", cell: (t) => h("a", { href: `#/tables/${enc(t)}` }, t) },
    ], tables, { empty: "No tables yet.", testid: "tables" });
  });
};

async function tableDetail(view, name) {
  view.append(pageHead(name, h("a", { href: "#/tables" }, "Tables")));
  const info = h("div", {});
  view.append(card(null, info));
  let table;
  await fill(info, async () => {
    table = await api(`tables/${enc(name)}`);
    const k = table.key;
    return props([
      ["Status", statusBadge(table.status)],
      ["Items", table.itemCount],
      ["Partition key", `${k.partitionKey} (${k.partitionType})`],
      ["Sort key", k.sortKey ? `${k.sortKey} (${k.sortType})` : "none"],
    ]);
  });
  if (!table) return;
  const k = table.key;
  const results = h("div", { id: "items" });
  let mode = "table";
  let last = null; // {path, params, items, next}

  const render = () => {
    if (!last) return;
    const { items, next } = last;
    const cols = [k.partitionKey, k.sortKey].filter(Boolean);
    for (const item of items) for (const c of Object.keys(item)) if (!cols.includes(c)) cols.push(c);
    const shown = mode === "json"
      ? h("div", { class: "items" }, items.length
        ? items.map((i) => h("pre", { class: "block light item" }, jsonText(i)))
        : h("div", { class: "empty" }, "No items match."))
      : dataTable(cols.map((c) => ({
        label: c,
        cell: (i) => (c in i ? (typeof i[c] === "string" ? i[c] : JSON.stringify(i[c])) : ""),
      })), items, { empty: "No items match.", testid: "items-table" });
    results.replaceChildren(
      h("div", { class: "result-head" }, h("span", { class: "muted", id: "item-count" },
        `${items.length} item${items.length === 1 ? "" : "s"}`),
      next ? h("button", { type: "button", id: "next-page", onclick: () => run(last.path, last.params, next) },
        "Next page") : null),
      shown);
  };
  const run = (path, params, start) => fill(results, async () => {
    const page = await api(`tables/${enc(name)}/${path}${qs({ ...params, start })}`);
    last = { path, params, ...page, items: page.items, next: page.next };
    render();
    return Array.from(results.childNodes);
  });

  const toggle = h("div", { class: "toggle", role: "group", "aria-label": "Item view" });
  const setMode = (m) => {
    mode = m;
    for (const b of toggle.children) b.classList.toggle("on", b.dataset.mode === m);
    render();
  };
  toggle.append(
    h("button", { type: "button", "data-mode": "table", class: "on", onclick: () => setMode("table") }, "Table"),
    h("button", { type: "button", "data-mode": "json", onclick: () => setMode("json") }, "JSON"));

  const pk = h("input", { type: "text", id: "query-pk", placeholder: k.partitionKey, required: true });
  const op = h("select", { id: "query-op" }, ["", "=", "<", "<=", ">", ">=", "begins_with", "between"]
    .map((o) => h("option", { value: o }, o || "(any sort key)")));
  const sk = h("input", { type: "text", id: "query-sk", placeholder: k.sortKey || "" });
  const sk2 = h("input", { type: "text", id: "query-sk2", placeholder: "and…" });
  const queryForm = h("form", {
    class: "row", id: "query-form",
    onsubmit: (ev) => {
      ev.preventDefault();
      const params = { pk: pk.value, limit: 25 };
      if (op.value) Object.assign(params, { op: op.value, sk: sk.value, sk2: op.value === "between" ? sk2.value : "" });
      run("query", params, null);
    },
  },
  h("label", { class: "field" }, `${k.partitionKey} =`, pk),
  k.sortKey ? [h("label", { class: "field" }, `${k.sortKey}`, op), h("label", { class: "field" }, "value", sk),
    h("label", { class: "field" }, "(between) to", sk2)] : null,
  h("button", { class: "primary", type: "submit", id: "query-button" }, "Query"),
  h("button", { type: "button", id: "scan-button", onclick: () => run("items", { limit: 25 }, null) }, "Scan all"));

  view.append(card(h("span", {}, "Items"), queryForm, h("div", { class: "result-head" }, toggle), results));
  await run("items", { limit: 25 }, null);
}

views.buckets = async (view, name, query) => {
  if (name) return bucketDetail(view, name, query.get("prefix") || "");
  view.append(pageHead("Buckets", null));
  const body = h("div", {});
  view.append(card(null, body));
  await fill(body, async () => {
    const { buckets } = await api("buckets");
    return dataTable([
      { label: "Name", cell: (b) => h("a", { href: `#/buckets/${enc(b.Name)}` }, b.Name) },
      { label: "Region", cell: (b) => b.BucketRegion || "" },
      { label: "Created", cell: (b) => fmtTime(b.CreationDate) },
    ], buckets, { empty: "No buckets yet.", testid: "buckets" });
  });
};

function prefixLink(bucket, prefix, label) {
  return h("a", { href: `#/buckets/${enc(bucket)}${qs({ prefix })}` }, label);
}

async function bucketDetail(view, bucket, prefix) {
  const parts = prefix.split("/").filter(Boolean);
  const crumbs = [h("a", { href: "#/buckets" }, "Buckets"), " / ", prefixLink(bucket, "", bucket)];
  parts.forEach((p, i) => crumbs.push(" / ", prefixLink(bucket, parts.slice(0, i + 1).join("/") + "/", p)));
  view.append(pageHead(prefix ? parts[parts.length - 1] + "/" : bucket, crumbs));

  const listing = h("div", { id: "objects" });
  const load = (token) => fill(listing, async () => {
    const r = await api(`buckets/${enc(bucket)}/objects${qs({ prefix, token })}`);
    const rows = [
      ...r.folders.map((f) => ({ folder: f })),
      ...r.objects,
    ];
    return [dataTable([
      {
        label: "Name",
        cell: (o) => o.folder
          ? h("span", { class: "folder" }, h("span", { class: "folder-icon", "aria-hidden": "true" }),
            prefixLink(bucket, o.folder, o.folder.slice(prefix.length)))
          : h("span", { class: "object-name" }, o.key.slice(prefix.length)),
      },
      { label: "Size", cell: (o) => (o.folder ? "" : fmtBytes(o.size)) },
      { label: "Modified", cell: (o) => (o.folder ? "" : fmtTime(o.lastModified)) },
      {
        label: "",
        cell: (o) => o.folder ? "" : h("a", {
          class: "button download", download: o.key.split("/").pop(),
          href: `${API}buckets/${enc(bucket)}/download${qs({ key: o.key })}`,
        }, "Download"),
      },
    ], rows, { empty: "This folder is empty.", testid: "objects" }),
    r.next ? h("div", { class: "result-head" },
      h("button", { type: "button", onclick: () => load(r.next) }, "Next page")) : null];
  });

  const file = h("input", { type: "file", id: "upload-file", "aria-label": "File to upload" });
  const status = h("div", { id: "upload-status" });
  const uploadButton = h("button", { class: "primary", type: "submit", id: "upload-button" }, "Upload");
  const form = h("form", {
    class: "row",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const f = file.files && file.files[0];
      if (!f) { status.replaceChildren(errorBox(new Error("Choose a file first."))); return; }
      uploadButton.disabled = true;
      const key = prefix + f.name;
      await fill(status, async () => {
        await api(`buckets/${enc(bucket)}/objects${qs({ key })}`, {
          method: "PUT", body: f, headers: { "Content-Type": f.type || "application/octet-stream" },
        });
        return h("span", { class: "badge ok" }, `Uploaded ${key}`);
      });
      uploadButton.disabled = false;
      file.value = "";
      load();
    },
  }, h("label", { class: "field fixed" }, `Upload to ${prefix || "/"}`, file), uploadButton);
  view.append(card("Upload", form, status), card("Objects", listing));
  await load();
}

views.logs = async (view, _name, query) => {
  view.append(pageHead("Log search", null));
  const group = h("select", { id: "log-group", "aria-label": "Log group" });
  const pattern = h("input", { type: "search", id: "log-pattern", placeholder: 'e.g. ERROR or "timed out" or { $.level = "error" }' });
  const range = h("select", { id: "log-range" }, [
    ["900000", "Last 15 minutes"], ["3600000", "Last hour"], ["21600000", "Last 6 hours"],
    ["86400000", "Last 24 hours"], ["604800000", "Last 7 days"], ["custom", "Custom range"],
  ].map(([v, l]) => h("option", { value: v }, l)));
  range.value = "3600000";
  const from = h("input", { type: "datetime-local", id: "log-from", hidden: true, "aria-label": "From" });
  const to = h("input", { type: "datetime-local", id: "log-to", hidden: true, "aria-label": "To" });
  range.addEventListener("change", () => { from.hidden = to.hidden = range.value !== "custom"; });
  const results = h("div", { id: "log-results" });
  let events = [];

  const search = (token) => fill(results, async () => {
    let start, end;
    if (range.value === "custom") {
      start = from.value ? new Date(from.value).getTime() : 0;
      end = to.value ? new Date(to.value).getTime() : Date.now();
    } else {
      end = Date.now();
      start = end - Number(range.value);
    }
    const r = await api(`logs/search${qs({ group: group.value, pattern: pattern.value, start, end, token })}`);
    events = token ? events.concat(r.events) : r.events;
    return [
      h("div", { class: "result-head" }, h("span", { class: "muted", id: "log-count" },
        `${events.length} event${events.length === 1 ? "" : "s"}`),
      r.nextToken ? h("button", { type: "button", onclick: () => search(r.nextToken) }, "Load more") : null),
      logList(events, "No events match."),
    ];
  });

  const form = h("form", {
    class: "row", id: "log-form",
    onsubmit: (ev) => { ev.preventDefault(); if (group.value) search(); },
  },
  h("label", { class: "field" }, "Log group", group),
  h("label", { class: "field" }, "Filter pattern", pattern),
  h("label", { class: "field" }, "Time range", range, from, to),
  h("button", { class: "primary", type: "submit", id: "log-search" }, "Search"));
  view.append(card(null, form), card(null, results));
  try {
    const { logGroups } = await api("log-groups");
    group.replaceChildren(...logGroups.map((g) => h("option", { value: g.name }, g.name)));
    const wanted = query.get("group");
    if (wanted) group.value = wanted;
    if (!logGroups.length) results.replaceChildren(h("div", { class: "empty" }, "No log groups yet."));
  } catch (err) {
    results.replaceChildren(errorBox(err));
  }
};

// ---- SageMaker -----------------------------------------------------------------------------
const TRAINING_STEPS = ["Starting", "Downloading", "Training", "Uploading", "Completed"];

views.sagemaker = async (view, name) => {
  if (name && name.startsWith("training-jobs/")) return trainingJobDetail(view, name.slice(14));
  view.append(pageHead("SageMaker", null));
  const body = h("div", { class: "stack" });
  view.append(body);
  await fill(body, async () => {
    const { trainingJobs, endpoints } = await api("sagemaker");
    return [
      card("Training jobs", dataTable([
        { label: "Name", cell: (j) => h("a", { href: `#/sagemaker/training-jobs/${enc(j.TrainingJobName)}` }, j.TrainingJobName) },
        { label: "Status", cell: (j) => statusBadge(j.TrainingJobStatus) },
        { label: "Created", cell: (j) => fmtTime(j.CreationTime) },
        { label: "Ended", cell: (j) => fmtTime(j.TrainingEndTime) },
      ], trainingJobs, { empty: "No training jobs yet.", testid: "training-jobs" })),
      card("Endpoints", dataTable([
        { label: "Name", cell: (e) => e.EndpointName },
        { label: "Status", cell: (e) => statusBadge(e.EndpointStatus) },
        { label: "Created", cell: (e) => fmtTime(e.CreationTime) },
      ], endpoints, { empty: "No endpoints yet.", testid: "endpoints" })),
    ];
  });
};

function trainingSteps(job) {
  // The secondary statuses as a progress line: done, current, still to come.
  const seen = (job.SecondaryStatusTransitions || []).map((t) => t.Status);
  const current = job.SecondaryStatus;
  const failed = ["Failed", "Stopped", "MaxRuntimeExceeded"].includes(current);
  return h("ol", { class: "steps", "data-testid": "training-steps" }, TRAINING_STEPS.map((step) => {
    let state = seen.includes(step) ? "done" : "todo";
    if (step === current) state = job.TrainingJobStatus === "InProgress" ? "current" : "done";
    return h("li", { class: `step ${state}`, "data-state": state }, step);
  }), failed ? h("li", { class: "step failed", "data-state": "failed" }, current) : null);
}

async function trainingJobDetail(view, name) {
  view.append(pageHead(name, h("a", { href: "#/sagemaker" }, "SageMaker")));
  const body = h("div", { class: "stack" });
  view.append(body);
  const mine = generation;
  await fill(body, async () => {
    const { job, events } = await api(`sagemaker/training-jobs/${enc(name)}`);
    if (/InProgress|Stopping/.test(job.TrainingJobStatus)) {
      setTimeout(() => { if (mine === generation) route(); }, 2000);
    }
    const metrics = job.FinalMetricDataList || [];
    return [
      card("Progress", trainingSteps(job), props([
        ["Status", statusBadge(job.TrainingJobStatus)],
        ["Step", job.SecondaryStatus],
        ["Reason", job.FailureReason],
        ["Started", fmtTime(job.TrainingStartTime)],
        ["Ended", fmtTime(job.TrainingEndTime)],
        ["Model", h("span", { class: "mono" }, (job.ModelArtifacts || {}).S3ModelArtifacts || "")],
      ])),
      metrics.length ? card("Metrics", dataTable([
        { label: "Metric", cell: (m) => m.MetricName },
        { label: "Value", cell: (m) => fmtNumber(m.Value) },
      ], metrics, { testid: "training-metrics" })) : null,
      card("Transitions", dataTable([
        { label: "Step", cell: (t) => t.Status },
        { label: "Started", cell: (t) => fmtTime(t.StartTime) },
        { label: "Message", cell: (t) => t.StatusMessage || "", wrap: true },
      ], job.SecondaryStatusTransitions || [])),
      card("Log", logList(events, "No log lines yet.", { follow: true })),
    ];
  });
}

// ---- routing -------------------------------------------------------------------------------
let generation = 0;

async function route() {
  const hash = location.hash.replace(/^#\/?/, "") || "stacks";
  const [path, search] = hash.split("?");
  const [section, ...rest] = path.split("/");
  const name = rest.length && views[section] ? decodeURIComponent(rest.join("/")) : null;
  const query = new URLSearchParams(search || "");
  const render = views[section] || views.stacks;
  for (const a of document.querySelectorAll("#nav a")) {
    const active = a.dataset.section === (views[section] ? section : "stacks");
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // A view still loading when the user navigates away renders into a detached node.
  const mine = ++generation;
  const view = h("div", { class: "view", "data-view": section });
  document.getElementById("view").replaceChildren(view);
  document.title = `${name || section[0].toUpperCase() + section.slice(1)} · Nimbus console`;
  try {
    await render(view, name, query);
  } catch (err) {
    if (mine === generation) view.append(errorBox(err));
  }
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("endpoint").textContent = location.host;
  route();
});
