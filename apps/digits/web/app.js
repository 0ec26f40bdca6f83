// Digit recognition UI: draw or upload a digit, POST it to {apiUrl}/predict, show the answer
// and the history from GET {apiUrl}/history. The API URL comes from config.json next to this page.
"use strict";

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ["image/png", "image/jpeg", "image/webp"];
const PAGE = 10;

const TEXT = {
  vi: {
    title: "Nhận diện chữ số viết tay", tabDraw: "Vẽ", tabUpload: "Tải ảnh",
    drawHint: "Vẽ một chữ số (0–9) vào ô dưới đây.", clear: "Xoá", predict: "Dự đoán",
    dropHint: "Kéo thả ảnh vào đây, bấm để chọn tệp, hoặc dán ảnh (Ctrl+V).",
    dropTypes: "PNG, JPEG hoặc WebP, tối đa 5 MB", result: "Kết quả", confidence: "Độ tin cậy",
    latency: "Độ trễ", history: "Lịch sử dự đoán", time: "Thời gian", digit: "Chữ số",
    more: "Xem thêm", historyEmpty: "Chưa có dự đoán nào.",
    emptyPad: "Hãy vẽ một chữ số trước.", tooLarge: "Ảnh quá lớn: tối đa 5 MB.",
    notImage: "Tệp này không phải ảnh PNG, JPEG hoặc WebP.",
    network: "Không kết nối được với API.", noConfig: "Thiếu config.json (apiUrl).",
    predicting: "Đang dự đoán…",
  },
  en: {
    title: "Handwritten digit recognition", tabDraw: "Draw", tabUpload: "Upload",
    drawHint: "Draw one digit (0–9) in the box below.", clear: "Clear", predict: "Predict",
    dropHint: "Drop an image here, click to choose a file, or paste one (Ctrl+V).",
    dropTypes: "PNG, JPEG or WebP, 5 MB at most", result: "Result", confidence: "Confidence",
    latency: "Latency", history: "Prediction history", time: "Time", digit: "Digit",
    more: "More", historyEmpty: "No predictions yet.",
    emptyPad: "Draw a digit first.", tooLarge: "The image is too large: 5 MB at most.",
    notImage: "This file is not a PNG, JPEG or WebP image.",
    network: "Cannot reach the API.", noConfig: "config.json (apiUrl) is missing.",
    predicting: "Predicting…",
  },
};

const $ = (id) => document.getElementById(id);
const state = { lang: "vi", api: null, next: null, busy: false, drawn: false };

function pickLanguage() {
  const saved = localStorage.getItem("digits.lang");
  if (saved && TEXT[saved]) return saved;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "vi"];
  for (const l of langs) {
    const primary = String(l).toLowerCase().split("-")[0];
    if (TEXT[primary]) return primary;
  }
  return "en";
}

function t(key) { return TEXT[state.lang][key] || key; }

function setLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("digits.lang", lang);
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const b of document.querySelectorAll(".lang button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  }
  for (const cell of document.querySelectorAll("#history td[data-time]")) {
    cell.textContent = formatTime(cell.dataset.time);
  }
}

function formatTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(state.lang === "vi" ? "vi-VN" : "en-GB");
}

function pct(p) { return (p * 100).toFixed(1) + " %"; }

function showError(message) {
  const el = $("error");
  el.textContent = message || "";
  el.hidden = !message;
}

// ---- the result -----------------------------------------------------------------------------

function buildBars() {
  const list = $("bars");
  list.textContent = "";
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.dataset.digit = String(d);
    li.innerHTML = `<span class="label">${d}</span><span class="bar"><span style="width:0%"></span></span><span class="pct">–</span>`;
    list.appendChild(li);
  }
}

function showResult(r) {
  $("digit").textContent = String(r.prediction);
  $("confidence").textContent = pct(r.confidence);
  $("latency").textContent = `${Number(r.latency_ms).toFixed(1)} ms`;
  const items = $("bars").children;
  r.probabilities.forEach((p, d) => {
    const li = items[d];
    li.querySelector(".bar span").style.width = `${(p * 100).toFixed(1)}%`;
    li.querySelector(".pct").textContent = pct(p);
    li.classList.toggle("best", d === r.prediction);
  });
}

async function predict(blob, type) {
  if (state.busy) return;
  showError("");
  if (!state.api) return showError(t("noConfig"));
  if (!TYPES.includes(type)) return showError(t("notImage"));
  if (blob.size > MAX_BYTES) return showError(t("tooLarge"));
  state.busy = true;
  for (const b of document.querySelectorAll("#predict-drawing")) b.disabled = true;
  $("digit").setAttribute("aria-busy", "true");
  try {
    const reply = await fetch(`${state.api}/predict`, {
      method: "POST",
      headers: { "content-type": type, "accept-language": state.lang },
      body: blob,
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) return showError(body.message || `HTTP ${reply.status}`);
    showResult(body);
    addHistoryRow(body, true);
  } catch (err) {
    showError(t("network"));
  } finally {
    state.busy = false;
    $("digit").removeAttribute("aria-busy");
    for (const b of document.querySelectorAll("#predict-drawing")) b.disabled = false;
  }
}

// ---- history --------------------------------------------------------------------------------

function addHistoryRow(item, atTop) {
  const body = document.querySelector("#history tbody");
  if (body.querySelector(`tr[data-id="${CSS.escape(item.id)}"]`)) return;
  const tr = document.createElement("tr");
  tr.dataset.id = item.id;
  const time = document.createElement("td");
  time.dataset.time = item.created_at;
  time.textContent = formatTime(item.created_at);
  const digit = document.createElement("td");
  digit.textContent = String(item.prediction);
  const conf = document.createElement("td");
  conf.textContent = pct(item.confidence);
  tr.append(time, digit, conf);
  if (atTop) body.prepend(tr); else body.appendChild(tr);
  $("history-empty").hidden = true;
}

async function loadHistory(more) {
  if (!state.api) return;
  const url = new URL(`${state.api}/history`);
  url.searchParams.set("limit", String(PAGE));
  if (more && state.next) url.searchParams.set("next", state.next);
  try {
    const reply = await fetch(url, { headers: { "accept-language": state.lang } });
    if (!reply.ok) return;
    const page = await reply.json();
    for (const item of page.items || []) addHistoryRow(item, false);
    state.next = page.next || null;
    $("more").hidden = !state.next;
    $("history-empty").hidden = document.querySelector("#history tbody").children.length > 0;
  } catch (err) {
    showError(t("network"));
  }
}

// ---- draw pad -------------------------------------------------------------------------------

function setUpPad() {
  const pad = $("pad");
  const ctx = pad.getContext("2d");
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    state.drawn = false;
  };
  clear();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  ctx.lineWidth = pad.width / 14;
  let last = null;
  const point = (e) => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)];
  };
  const dot = ([x, y]) => {
    ctx.beginPath();
    ctx.arc(x, y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fillStyle = "#000";
    ctx.fill();
  };
  pad.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    last = point(e);
    dot(last);
    state.drawn = true;
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = point(e);
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
  });
  const end = () => { last = null; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("clear").addEventListener("click", clear);
  $("predict-drawing").addEventListener("click", () => {
    if (!state.drawn) return showError(t("emptyPad"));
    // 112 px is plenty for the model (it works on a 32 px canvas) and decodes fast
    const small = document.createElement("canvas");
    small.width = small.height = 112;
    const sctx = small.getContext("2d");
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(pad, 0, 0, small.width, small.height);
    small.toBlob((blob) => predict(blob, "image/png"), "image/png");
  });
}

// ---- upload: picker, drag and drop, paste ---------------------------------------------------

function takeFile(file) {
  if (!file) return;
  selectTab("upload");
  const preview = $("preview");
  if (TYPES.includes(file.type)) {
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  }
  predict(file, file.type);
}

function setUpUpload() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => {
    takeFile(e.target.files[0]);
    e.target.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    takeFile(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const items = e.clipboardData ? Array.from(e.clipboardData.items) : [];
    const image = items.find((i) => i.kind === "file" && i.type.startsWith("image/"));
    if (image) {
      e.preventDefault();
      takeFile(image.getAsFile());
    }
  });
}

function selectTab(name) {
  for (const tab of ["draw", "upload"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`panel-${tab}`).hidden = tab !== name;
  }
}

async function main() {
  buildBars();
  setLanguage(pickLanguage());
  for (const b of document.querySelectorAll(".lang button")) {
    b.addEventListener("click", () => setLanguage(b.dataset.lang));
  }
  $("tab-draw").addEventListener("click", () => selectTab("draw"));
  $("tab-upload").addEventListener("click", () => selectTab("upload"));
  $("more").addEventListener("click", () => loadHistory(true));
  setUpPad();
  setUpUpload();
  try {
    const reply = await fetch("config.json", { cache: "no-store" });
    const config = await reply.json();
    state.api = String(config.apiUrl || "").replace(/\/+$/, "") || null;
  } catch (err) {
    state.api = null;
  }
  if (!state.api) return showError(t("noConfig"));
  await loadHistory(false);
  document.body.dataset.ready = "true";
}

main();
