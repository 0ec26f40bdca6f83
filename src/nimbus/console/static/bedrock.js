// Nimbus console, Bedrock view: models (catalog, backend, metrics), a streaming "try it" box,
// guardrails (with an ApplyGuardrail test box) and prompts. Uses console.js's helpers (h, api,
// card, dataTable, lineChart, ...), which are globals of the page loaded before this file.
"use strict";

const BACKEND_NAMES = { builtin: "built-in (offline)", openai: "openai", bedrock: "bedrock" };

function backendBadge(b) {
  const detail = [b.label, b.match && `route ${b.match}`, b.baseUrl, b.model && `model ${b.model}`,
    b.region && `region ${b.region}`, b.fallback && `fallback ${b.fallback.join(", ")}`].filter(Boolean);
  return h("span", { class: `badge backend ${b.kind}`, title: detail.join(" · "), "data-backend": b.kind },
    BACKEND_NAMES[b.kind] || b.kind);
}

function fmtMs(v) {
  return v === null || v === undefined ? "–" : `${fmtNumber(v)} ms`;
}

function modalities(m) {
  if (!m.inputModalities.length) return "";
  return `${m.inputModalities.join(", ")} → ${m.outputModalities.join(", ")}`;
}

// Two series on one small chart, each scaled to its own maximum (shapes, not values, matter).
function sparkline(series, start, end, label) {
  const W = 120, H = 32, P = 2;
  const chart = svg("svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  const x = (t) => P + ((t - start) / Math.max(1, end - start)) * (W - 2 * P);
  for (const [key, points] of Object.entries(series)) {
    if (!points.length) continue;
    const max = Math.max(1, ...points.map((p) => p[1]));
    const coords = points.map(([t, v]) => `${x(t).toFixed(1)},${(H - P - (v / max) * (H - 2 * P)).toFixed(1)}`);
    if (points.length === 1) coords.unshift(`${(x(points[0][0]) - 2).toFixed(1)},${H - P}`);
    chart.append(svg("polyline", { class: `spark-${key}`, points: coords.join(" ") }));
  }
  return chart;
}

function backendNotice(models, config) {
  if (config.error) return errorBox(new Error(`The bedrock-models config is invalid: ${config.error}`));
  const counts = {};
  for (const m of models) counts[m.backend.kind] = (counts[m.backend.kind] || 0) + 1;
  const where = config.path ? ["Routes come from ", h("span", { class: "mono" }, config.path), "."]
    : ["Map model ids to an OpenAI-compatible server (Ollama, vLLM, …) or to real Bedrock in a ",
      h("span", { class: "mono" }, "bedrock-models.toml"), " in the data directory or the file ",
      h("span", { class: "mono" }, "NIMBUS_BEDROCK_MODELS"), " names."];
  if (!counts.openai && !counts.bedrock) {
    return h("div", { class: "notice", id: "backend-notice", "data-kind": "builtin" },
      h("strong", {}, "Answers come from Nimbus's built-in offline model"),
      ": deterministic stand-in text, not a real LLM. ", where);
  }
  const parts = Object.entries(counts).map(([k, n]) => `${n} by ${BACKEND_NAMES[k] || k}`);
  return h("div", { class: "notice", id: "backend-notice", "data-kind": "mixed" },
    `Models served: ${parts.join(", ")}. `, where);
}

function modelsTable(r, models) {
  const st = (m, f) => (m.stats ? f(m.stats) : "");
  return dataTable([
    { label: "Model", cell: (m) => h("div", { class: "model-cell", "data-model-id": m.modelId },
      h("a", { href: `#/bedrock/models/${enc(m.modelId)}` }, m.modelName),
      h("div", { class: "muted small" }, `${m.provider} · `, h("span", { class: "mono" }, m.modelId))) },
    { label: "Backend", cell: (m) => backendBadge(m.backend) },
    { label: "Invocations", cell: (m) => h("span", { class: "num", "data-stat": "invocations" },
      st(m, (s) => fmtNumber(s.invocations)) || "0") },
    { label: "Tokens in / out", cell: (m) => st(m, (s) => `${fmtNumber(s.inputTokens)} / ${fmtNumber(s.outputTokens)}`) },
    { label: "p50 / p99", cell: (m) => st(m, (s) => `${fmtMs(s.latencyP50)} / ${fmtMs(s.latencyP99)}`) },
    { label: "Errors", cell: (m) => st(m, (s) => (s.errors ? h("span", { class: "badge bad" }, fmtNumber(s.errors)) : "0")) },
    { label: "Last hour", cell: (m) => (m.stats
      ? sparkline(m.stats.series, r.start, r.end, `Invocations and tokens of ${m.modelId}`) : "") },
    { label: "Modalities", cell: (m) => [modalities(m), m.streaming ? "" : h("span", { class: "muted" }, " · no streaming")] },
  ], models, { testid: "bedrock-models" });
}

// Models with traffic first; the rest of the catalog one click away.
function modelsList(r) {
  const active = r.models.filter((m) => m.stats)
    .sort((a, b) => b.stats.invocations - a.stats.invocations);
  const body = h("div", {});
  const toggle = h("div", { class: "toggle", role: "group", "aria-label": "Models shown" });
  const show = (which) => {
    for (const b of toggle.children) b.classList.toggle("on", b.dataset.show === which);
    const rest = r.models.filter((m) => !m.stats);
    body.replaceChildren(modelsTable(r, which === "active" ? active : [...active, ...rest]));
  };
  toggle.append(
    h("button", { type: "button", "data-show": "active", id: "models-active", onclick: () => show("active") },
      `With traffic (${active.length})`),
    h("button", { type: "button", "data-show": "all", id: "models-all", onclick: () => show("all") },
      `All (${r.models.length})`));
  show(active.length ? "active" : "all");
  return [h("div", { class: "result-head" }, toggle,
    h("span", { class: "muted small" }, `metrics of the last ${r.minutes} minutes`)), body];
}

// ---- the "try it" box ------------------------------------------------------------------------
async function streamLines(path, body, onLine) {
  const resp = await fetch(API + path, {
    method: "POST", body: JSON.stringify(body),
    headers: { "X-Nimbus-Console": "1", "Content-Type": "application/json" },
  });
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch (_) { data = null; }
    throw new ApiError(resp.status, (data && data.code) || "Error", (data && data.message) || resp.statusText);
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let cut;
    while ((cut = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 1);
      if (line.trim()) onLine(JSON.parse(line));
    }
    if (done) break;
  }
  if (buffer.trim()) onLine(JSON.parse(buffer));
}

function tryBox(models, guardrails, selected, onDone) {
  const chat = models.filter((m) => !m.outputModalities.includes("EMBEDDING"));
  const model = h("select", { id: "try-model", "aria-label": "Model" },
    chat.map((m) => h("option", { value: m.modelId }, `${m.modelName} — ${m.modelId}`)));
  model.value = selected && chat.some((m) => m.modelId === selected) ? selected
    : (chat.find((m) => m.stats) || chat[0] || {}).modelId || "";
  const served = h("div", { class: "muted small", id: "try-backend" });
  const showBackend = () => {
    const m = chat.find((c) => c.modelId === model.value);
    served.replaceChildren(...(m ? ["Served by ", backendBadge(m.backend), " ", m.backend.label] : []));
  };
  model.addEventListener("change", showBackend);
  showBackend();
  const prompt = h("textarea", { id: "try-prompt", "aria-label": "Prompt", placeholder: "Ask something…" });
  const system = h("input", { type: "text", id: "try-system", placeholder: "You are a helpful assistant." });
  const maxTokens = h("input", { type: "text", id: "try-max-tokens", inputmode: "numeric", placeholder: "default" });
  const guard = h("select", { id: "try-guardrail", "aria-label": "Guardrail" },
    h("option", { value: "" }, "none"),
    guardrails.flatMap((g) => g.versions.map((v) => h("option", { value: `${g.id}:${v}` }, `${g.name} (${v})`))));
  const button = h("button", { class: "primary", type: "submit", id: "try-button" }, "Run");
  const answer = h("pre", { class: "block answer", id: "try-answer", hidden: true });
  const info = h("div", { class: "result-head", id: "try-info" });

  const run = async () => {
    if (!prompt.value.trim()) { info.replaceChildren(errorBox(new Error("Type a prompt first."))); return; }
    const body = { modelId: model.value, prompt: prompt.value, system: system.value || undefined };
    if (maxTokens.value) body.maxTokens = Number(maxTokens.value);
    if (guard.value) [body.guardrailId, body.guardrailVersion] = guard.value.split(":");
    button.disabled = true;
    button.replaceChildren(h("span", { class: "spinner" }), "Running…");
    answer.hidden = false;
    answer.textContent = "";
    info.replaceChildren(loading("Waiting for the first token…"));
    try {
      await streamLines("bedrock/converse-stream", body, (line) => {
        if (line.text !== undefined) {
          if (!answer.textContent) info.replaceChildren(loading("Streaming…"));
          answer.append(line.text);
        } else if (line.error) {
          info.replaceChildren(errorBox(new ApiError(200, line.error.code, line.error.message)));
        } else if (line.done) {
          const u = line.usage || {};
          const stop = line.stopReason || "";
          info.replaceChildren(
            h("span", { class: `badge ${stop === "guardrail_intervened" ? "bad" : "ok"}`, id: "try-stop" }, stop),
            h("span", { class: "muted", id: "try-tokens" }, `${u.inputTokens || 0} in / ${u.outputTokens || 0} out tokens`),
            h("span", { class: "muted", id: "try-latency" },
              `first token ${fmtMs(line.firstTokenMs)} · total ${fmtMs(line.totalMs)}`));
        }
      });
    } catch (err) {
      info.replaceChildren(errorBox(err));
    }
    button.disabled = false;
    button.replaceChildren("Run");
    if (onDone) setTimeout(onDone, 400); // metrics land in a batch just after the invocation
  };
  const form = h("form", { class: "stack", id: "try-form", onsubmit: (ev) => { ev.preventDefault(); run(); } },
    h("label", { class: "field" }, "Model", model), served,
    h("label", { class: "field" }, "Prompt", prompt),
    h("details", { class: "options" }, h("summary", {}, "Options"),
      h("div", { class: "row" },
        h("label", { class: "field" }, "System prompt", system),
        h("label", { class: "field" }, "Max tokens", maxTokens),
        h("label", { class: "field" }, "Guardrail", guard))),
    h("div", { class: "row" }, button), info, answer);
  return form;
}

// ---- guardrails ------------------------------------------------------------------------------
function guardrailsTable(guardrails) {
  return dataTable([
    { label: "Name", cell: (g) => h("div", {}, g.name, h("div", { class: "mono muted small" }, g.id)) },
    { label: "Versions", cell: (g) => h("span", { title: g.versions.join(", ") }, String(g.versions.length - 1)) },
    { label: "Policies", wrap: true, cell: (g) => g.policies.length
      ? h("ul", { class: "plain" }, g.policies.map((p) => h("li", {}, h("strong", {}, p.policy), ": ", p.items.join(", "))))
      : h("span", { class: "muted" }, "none") },
    { label: "Updated", cell: (g) => fmtTime(g.updatedAt) },
  ], guardrails, { empty: "No guardrails yet. Create one with boto3's bedrock create_guardrail.", testid: "guardrails" });
}

function guardrailTester(guardrails) {
  if (!guardrails.length) return null;
  const which = h("select", { id: "guard-id", "aria-label": "Guardrail" },
    guardrails.map((g) => h("option", { value: g.id }, g.name)));
  const version = h("select", { id: "guard-version", "aria-label": "Version" });
  const fillVersions = () => {
    const g = guardrails.find((x) => x.id === which.value);
    version.replaceChildren(...g.versions.map((v) => h("option", { value: v }, v)));
  };
  which.addEventListener("change", fillVersions);
  fillVersions();
  const source = h("select", { id: "guard-source", "aria-label": "Source" },
    h("option", { value: "INPUT" }, "INPUT (user prompt)"), h("option", { value: "OUTPUT" }, "OUTPUT (model answer)"));
  const text = h("textarea", { id: "guard-text", "aria-label": "Text to test", placeholder: "Text to check against the guardrail" });
  const result = h("div", { id: "guard-result" });
  const button = h("button", { class: "primary", type: "submit", id: "guard-button" }, "Test");
  const form = h("form", {
    class: "stack", id: "guard-form",
    onsubmit: async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      await fill(result, async () => {
        const r = await api(`bedrock/guardrails/${enc(which.value)}/apply`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ version: version.value, source: source.value, text: text.value }),
        });
        const intervened = r.action !== "NONE";
        return [
          h("div", { class: "result-head" },
            h("span", { class: `badge ${intervened ? "bad" : "ok"}`, id: "guard-action" }, r.action),
            r.actionReason ? h("span", { class: "muted" }, r.actionReason) : null),
          r.outputs.length ? h("pre", { class: "block light", id: "guard-output" }, r.outputs.join("\n")) : null,
          dataTable([
            { label: "Policy", cell: (f) => f.policy },
            { label: "What", cell: (f) => f.item },
            { label: "Action", cell: (f) => f.action },
            { label: "Match", cell: (f) => h("span", { class: "mono" }, f.match || "") },
          ], r.fired, { empty: "No policy fired.", testid: "guardrail-fired" }),
        ];
      });
      button.disabled = false;
    },
  },
  h("div", { class: "row" }, h("label", { class: "field" }, "Guardrail", which),
    h("label", { class: "field" }, "Version", version), h("label", { class: "field" }, "Source", source)),
  h("label", { class: "field" }, "Text", text), h("div", { class: "row" }, button), result);
  return h("div", { class: "stack" }, h("h2", {}, "Test a guardrail"), form);
}

// ---- prompts ---------------------------------------------------------------------------------
function promptsTable(prompts) {
  return dataTable([
    { label: "Name", cell: (p) => h("div", {}, p.name, h("div", { class: "mono muted small" }, p.id)) },
    { label: "Versions", cell: (p) => h("span", { title: p.versions.join(", ") }, String(p.versions.length - 1)) },
    { label: "Variants", wrap: true, cell: (p) => h("ul", { class: "plain" }, p.variants.map((v) =>
      h("li", {}, h("strong", {}, v.name), v.name === p.defaultVariant ? " (default)" : "",
        ` · ${v.templateType || ""} · `, h("span", { class: "mono" }, v.modelId || "")))) },
    { label: "Variables", wrap: true, cell: (p) => h("span", { class: "chips" },
      [...new Set(p.variants.flatMap((v) => v.variables))].map((n) => h("code", { class: "chip" }, `{{${n}}}`))) },
    { label: "Updated", cell: (p) => fmtTime(p.updatedAt) },
  ], prompts, { empty: "No prompts yet. Create one with boto3's bedrock-agent create_prompt.", testid: "prompts" });
}

// ---- pages -----------------------------------------------------------------------------------
views.bedrock = async (view, name) => {
  if (name && name.startsWith("models/")) return bedrockModel(view, name.slice(7));
  view.append(pageHead("Bedrock", null));
  const notice = h("div", {});
  const models = h("div", { id: "bedrock-models" });
  const trying = h("div", { id: "bedrock-try" });
  const guards = h("div", { id: "bedrock-guardrails", class: "stack" });
  const prompts = h("div", { id: "bedrock-prompts" });
  view.append(h("div", { class: "stack" }, notice, card("Models", models),
    h("div", { class: "grid wide" }, card("Try it", trying), card("Guardrails", guards)),
    card("Prompts", prompts)));
  let modelList = null, guardList = [];
  const loadModels = () => fill(models, async () => {
    const r = await api("bedrock/models");
    modelList = r;
    notice.replaceChildren(backendNotice(r.models, r.config));
    return modelsList(r);
  });
  await Promise.all([
    loadModels(),
    fill(guards, async () => {
      guardList = (await api("bedrock/guardrails")).guardrails;
      return [guardrailsTable(guardList), guardrailTester(guardList)];
    }),
    fill(prompts, async () => promptsTable((await api("bedrock/prompts")).prompts)),
  ]);
  if (modelList) trying.replaceChildren(tryBox(modelList.models, guardList, null, loadModels));
};

async function bedrockModel(view, modelId) {
  view.append(pageHead(modelId, h("a", { href: "#/bedrock" }, "Bedrock")));
  const about = h("div", {});
  const charts = h("div", { class: "grid", id: "charts" });
  const trying = h("div", { id: "bedrock-try" });
  const range = h("select", { id: "chart-range", "aria-label": "Chart time range", onchange: () => refresh() },
    [["15", "Last 15 minutes"], ["60", "Last hour"], ["360", "Last 6 hours"], ["1440", "Last 24 hours"]]
      .map(([v, l]) => h("option", { value: v }, l)));
  range.value = "60";
  const periods = { 15: 60, 60: 60, 360: 300, 1440: 900 };
  const refresh = () => fill(charts, async () => {
    const m = await api(`bedrock/models/${enc(modelId)}/metrics${qs({ minutes: range.value, period: periods[range.value] })}`);
    const opts = { start: m.start, end: m.end };
    return [
      lineChart("Invocations", m.series.invocations, { ...opts, unit: "Count" }),
      lineChart("Tokens", m.series.tokens, { ...opts, unit: "Count" }),
      lineChart("Latency", m.series.latency, { ...opts, unit: "Milliseconds" }),
      lineChart("Errors", m.series.errors, { ...opts, unit: "Count", kind: "errors" }),
    ];
  });
  view.append(h("div", { class: "stack" }, h("div", { class: "grid wide" }, card("Model", about), card("Try it", trying)),
    h("section", {}, h("div", { class: "page-head" }, h("h2", {}, "Metrics"),
      h("div", { class: "row" }, range, h("button", { type: "button", id: "charts-refresh", onclick: () => refresh() }, "Refresh"))),
    charts)));
  await Promise.all([
    fill(about, async () => {
      const [{ models }, { guardrails }] = await Promise.all([api("bedrock/models"), api("bedrock/guardrails")]);
      const m = models.find((x) => x.modelId === modelId);
      if (!m) throw new Error(`Nimbus has no model ${modelId}; see the Bedrock page for the catalog.`);
      trying.replaceChildren(tryBox(models, guardrails, modelId, refresh));
      const b = m.backend;
      return props([
        ["Name", m.modelName], ["Provider", m.provider], ["Modalities", modalities(m)],
        ["Streaming", m.streaming ? "yes" : "no"], ["Backend", h("span", {}, backendBadge(b), " ", b.label)],
        ["Route", b.configured ? h("span", { class: "mono" }, b.match) : "default (no route matches)"],
        ["Server", b.baseUrl ? h("span", { class: "mono" }, `${b.baseUrl} (${b.model})`) : null],
        ["Region", b.region], ["Fallback", b.fallback ? b.fallback.join(", ") : null],
      ]);
    }),
    refresh(),
  ]);
}
