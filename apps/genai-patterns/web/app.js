// GenAI patterns chat: one prompt layer, three ways to reach it.
//   REST       POST {apiUrl}/generate, the page waits for the answer;
//   WebSocket  {"action":"ask"} on {webSocketUrl}: an ack at once, the answer later;
//   Streaming  {"action":"stream"}: the answer arrives as deltas, rendered as they come.
// Endpoints come from config.json next to this page. Answers are Markdown (markdown.js escapes
// everything first); user text is only ever set as textContent.
"use strict";

const TEXT = {
  vi: {
    title: "Mẫu tích hợp GenAI serverless", modeRest: "REST", modeAsk: "WebSocket",
    modeStream: "Streaming",
    hintRest: "Đồng bộ: trình duyệt gửi POST /generate và chờ câu trả lời.",
    hintAsk: "Bất đồng bộ: WebSocket xác nhận ngay, một worker gửi câu trả lời khi xong.",
    hintStream: "Streaming: câu trả lời hiện ra từng phần ngay khi mô hình viết.",
    template: "Mẫu prompt", tplChat: "Hỏi đáp", tplSummarize: "Tóm tắt", tplAdvert: "Quảng cáo xe",
    model: "Mô hình", modelAuto: "Tự chọn", modelSmall: "Nhỏ", modelLarge: "Lớn",
    cache: "Dùng cache", send: "Gửi",
    placeholder: "Nhập câu hỏi… (Enter để gửi, Shift+Enter xuống dòng)",
    empty: "Hãy đặt một câu hỏi. Câu trả lời hiển thị dạng Markdown, kèm số token, độ trễ, chi phí ước tính và tác động của guardrail.",
    waiting: "Đang chờ…", acked: "Đã nhận — đang xử lý…",
    wsIdle: "", wsConnecting: "Đang kết nối WebSocket…", wsOpen: "WebSocket đã kết nối",
    wsClosed: "WebSocket mất kết nối — đang thử lại…", wsMissing: "Chưa cấu hình WebSocket.",
    tokens: "token", cached: "cache", fallback: "dự phòng",
    blocked: "Guardrail đã chặn", masked: "Guardrail đã che",
    replaced: "Guardrail đã thay nội dung đã stream.",
    network: "Không kết nối được với API.", noConfig: "Thiếu config.json (apiUrl).",
    lost: "Mất kết nối trước khi có câu trả lời.", emptyPrompt: "Hãy nhập câu hỏi.",
  },
  en: {
    title: "Serverless GenAI patterns", modeRest: "REST", modeAsk: "WebSocket",
    modeStream: "Streaming",
    hintRest: "Synchronous: the browser sends POST /generate and waits for the answer.",
    hintAsk: "Asynchronous: the WebSocket acknowledges at once; a worker posts the answer when done.",
    hintStream: "Streaming: the answer appears piece by piece as the model writes it.",
    template: "Prompt template", tplChat: "Q&A", tplSummarize: "Summarize", tplAdvert: "Car advert",
    model: "Model", modelAuto: "Auto", modelSmall: "Small", modelLarge: "Large",
    cache: "Use cache", send: "Send",
    placeholder: "Ask something… (Enter sends, Shift+Enter for a new line)",
    empty: "Ask a question. Answers are rendered as Markdown, with tokens, latency, estimated cost and what the guardrail did.",
    waiting: "Waiting…", acked: "Received — working on it…",
    wsIdle: "", wsConnecting: "Connecting the WebSocket…", wsOpen: "WebSocket connected",
    wsClosed: "WebSocket disconnected — retrying…", wsMissing: "No WebSocket configured.",
    tokens: "tokens", cached: "cache", fallback: "fallback",
    blocked: "Blocked by the guardrail", masked: "Guardrail masked",
    replaced: "The guardrail replaced the streamed text.",
    network: "Cannot reach the API.", noConfig: "config.json (apiUrl) is missing.",
    lost: "The connection closed before the answer came.", emptyPrompt: "Type a question first.",
  },
};
const HINTS = { rest: "hintRest", ask: "hintAsk", stream: "hintStream" };
const WS_TEXT = { idle: "wsIdle", connecting: "wsConnecting", open: "wsOpen", closed: "wsClosed", missing: "wsMissing" };

const $ = (id) => document.getElementById(id);
const state = {
  lang: "vi", mode: "rest", api: null, wsUrl: null, ws: null, wsState: "idle",
  queue: [], pending: new Map(), counter: 0, retry: 0, reconnect: null,
};

function t(key) { return TEXT[state.lang][key] || key; }

function pickLanguage() {
  const saved = localStorage.getItem("genai.lang");
  if (saved && TEXT[saved]) return saved;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "vi"];
  for (const l of langs) {
    const primary = String(l).toLowerCase().split("-")[0];
    if (TEXT[primary]) return primary;
  }
  return "en";
}

function setLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("genai.lang", lang);
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  $("mode-hint").textContent = t(HINTS[state.mode]);
  setWsState(state.wsState);
  for (const el of document.querySelectorAll(".msg.bot")) {
    if (el._outcome) showMeta(el._entry, el._outcome);
    else if (el.dataset.state === "waiting" || el.dataset.state === "acked") el.querySelector(".bubble").dataset.note = t(el.dataset.state);
  }
}

function setMode(mode) {
  state.mode = mode;
  localStorage.setItem("genai.mode", mode);
  for (const b of document.querySelectorAll(".modes button")) b.setAttribute("aria-checked", String(b.dataset.mode === mode));
  $("mode-hint").textContent = t(HINTS[mode]);
  if (mode !== "rest") connect();
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

// ---- the conversation -----------------------------------------------------------------------

function scrollDown() {
  const chat = $("chat");
  chat.scrollTop = chat.scrollHeight;
}

function addUser(text) {
  $("empty").hidden = true;
  const el = document.createElement("article");
  el.className = "msg user";
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.textContent = text;
  el.appendChild(bubble);
  $("chat").appendChild(el);
}

function addBot(mode, id) {
  const el = document.createElement("article");
  el.className = "msg bot";
  el.dataset.mode = mode;
  el.dataset.requestId = id;
  el.dataset.state = "waiting";
  el.dataset.chunks = "0";
  const bubble = document.createElement("div");
  bubble.className = "bubble md";
  bubble.dataset.note = t("waiting");
  const meta = document.createElement("div");
  meta.className = "meta";
  el.append(bubble, meta);
  $("chat").appendChild(el);
  scrollDown();
  const entry = { el, bubble, meta, id, mode, text: "", chunks: 0 };
  el._entry = entry;
  return entry;
}

function renderText(entry, text) {
  entry.bubble.innerHTML = window.Markdown.render(text);
  scrollDown();
}

function badge(text, cls) {
  const span = document.createElement("span");
  span.className = `badge ${cls}`;
  span.textContent = text;
  return span;
}

function item(text, cls) {
  const span = document.createElement("span");
  span.className = cls;
  span.textContent = text;
  return span;
}

function showMeta(entry, outcome) {
  entry.el._outcome = outcome;
  const meta = entry.meta;
  meta.textContent = "";
  const usage = outcome.usage || {};
  meta.append(
    badge(t({ rest: "modeRest", ask: "modeAsk", stream: "modeStream" }[entry.mode]), "m-mode"),
    item(outcome.model || "—", "m-model"),
    item(`${usage.inputTokens || 0} → ${usage.outputTokens || 0} ${t("tokens")}`, "m-tokens"),
    item(`${Math.round(Number(outcome.latencyMs) || 0)} ms`, "m-latency"),
    item(`$${(Number(outcome.costUsd) || 0).toFixed(6)}`, "m-cost"),
  );
  if (outcome.template) meta.append(item(outcome.template, "m-template"));
  if (outcome.cached) meta.append(badge(t("cached"), "m-cache"));
  if (outcome.fallback) meta.append(badge(t("fallback"), "m-fallback"));
  const guard = outcome.guardrail || {};
  const touched = [guard.input, guard.output].some((action) => action && action !== "NONE");
  if (guard.blocked) {
    meta.append(badge(t("blocked"), "m-guard blocked"));
  } else if (touched) {
    const kinds = (guard.findings || []).join(", ");
    meta.append(badge(kinds ? `${t("masked")}: ${kinds}` : t("masked"), "m-guard masked"));
  }
  if (outcome.replaced) meta.append(item(t("replaced"), "m-replaced"));
}

function finish(entry, outcome) {
  renderText(entry, outcome.text || "");
  entry.el.dataset.state = "done";
  entry.el.classList.toggle("blocked", Boolean(outcome.guardrail && outcome.guardrail.blocked));
  showMeta(entry, outcome);
  state.pending.delete(entry.id);
  setBusy();
}

function fail(entry, message) {
  entry.el.dataset.state = "error";
  entry.el.classList.add("failed");
  if (!entry.text) entry.bubble.textContent = message;
  else entry.meta.textContent = message;
  state.pending.delete(entry.id);
  setBusy();
}

function setBusy() {
  $("send").disabled = state.mode === "rest" && [...state.pending.values()].some((e) => e.mode === "rest");
}

// ---- pattern 1: REST ----------------------------------------------------------------------------

async function sendRest(entry, body) {
  try {
    const reply = await fetch(`${state.api}/generate`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-language": state.lang },
      body: JSON.stringify(body),
    });
    const data = await reply.json().catch(() => ({}));
    if (!reply.ok) return fail(entry, data.message || `HTTP ${reply.status}`);
    finish(entry, data);
  } catch (err) {
    fail(entry, t("network"));
  }
}

// ---- patterns 2 and 3: WebSocket ------------------------------------------------------------

function setWsState(name) {
  state.wsState = name;
  const el = $("ws-status");
  el.dataset.state = name;
  el.textContent = state.mode === "rest" && name !== "missing" ? "" : t(WS_TEXT[name]);
}

function connect() {
  if (!state.wsUrl) return setWsState("missing");
  if (state.ws && state.ws.readyState <= 1) return;
  clearTimeout(state.reconnect);
  setWsState("connecting");
  const ws = new WebSocket(state.wsUrl);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onopen = () => {
    state.retry = 0;
    setWsState("open");
    for (const message of state.queue.splice(0)) ws.send(message);
  };
  ws.onmessage = (event) => {
    const raw = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
    let message;
    try { message = JSON.parse(raw); } catch (err) { return; }
    onMessage(message);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    setWsState("closed");
    for (const entry of [...state.pending.values()]) if (entry.mode !== "rest") fail(entry, t("lost"));
    if (state.mode !== "rest") {
      const delay = Math.min(10000, 500 * 2 ** state.retry++);
      state.reconnect = setTimeout(connect, delay);
    }
  };
}

function sendWs(message) {
  const data = JSON.stringify(message);
  if (state.ws && state.ws.readyState === 1) state.ws.send(data);
  else { state.queue.push(data); connect(); }
}

function onMessage(message) {
  const entry = state.pending.get(message.requestId);
  if (!entry) return;
  switch (message.type) {
    case "ack":
      entry.el.dataset.state = "acked";
      entry.bubble.dataset.note = t("acked");
      break;
    case "delta":
      entry.text += message.text || "";
      entry.chunks += 1;
      entry.el.dataset.chunks = String(entry.chunks);
      entry.el.dataset.state = "streaming";
      renderText(entry, entry.text);
      break;
    case "answer":
    case "done":
      finish(entry, message);
      break;
    case "error":
      fail(entry, message.message || message.error);
      break;
  }
}

// ---- the composer -------------------------------------------------------------------------------

function nextId() {
  state.counter += 1;
  return `c${Date.now().toString(36)}${state.counter}`;
}

function submit() {
  showError("");
  const prompt = $("prompt").value.trim();
  if (!prompt) return showError(t("emptyPrompt"));
  if (!state.api) return showError(t("noConfig"));
  const mode = state.mode;
  if (mode === "rest" && $("send").disabled) return;
  const body = {
    prompt, template: $("template").value, model: $("model").value,
    cache: $("use-cache").checked, language: state.lang,
  };
  const id = nextId();
  addUser(prompt);
  const entry = addBot(mode, id);
  state.pending.set(id, entry);
  $("prompt").value = "";
  setBusy();
  if (mode === "rest") return sendRest(entry, body);
  if (!state.wsUrl) return fail(entry, t("wsMissing"));
  sendWs({ action: mode, requestId: id, ...body });
}

async function main() {
  setLanguage(pickLanguage());
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => setLanguage(b.dataset.lang));
  for (const b of document.querySelectorAll(".modes button")) b.addEventListener("click", () => setMode(b.dataset.mode));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("prompt").addEventListener("keydown", (e) => {
    // Vietnamese input methods compose letters with Enter too: never send mid-composition.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  try {
    const reply = await fetch("config.json", { cache: "no-store" });
    const config = await reply.json();
    state.api = String(config.apiUrl || "").replace(/\/+$/, "") || null;
    state.wsUrl = String(config.webSocketUrl || "").replace(/\/+$/, "") || null;
  } catch (err) {
    state.api = null;
  }
  const saved = localStorage.getItem("genai.mode");
  setMode(HINTS[saved] ? saved : "rest");
  if (!state.api) showError(t("noConfig"));
  document.body.dataset.ready = "true";
}

main();
