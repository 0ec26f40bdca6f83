// A small, safe Markdown renderer for model answers: no dependencies, no network.
// Safety: every piece of source text is HTML-escaped before any markup is added, the only
// attributes written are a link's href (http, https or mailto only, escaped) and a code block's
// language class (letters, digits, + and -). Raw HTML in the source is shown as text.
// Supports: headings, paragraphs, line breaks, **bold**, *italic*, ~~strike~~, `code`, fenced
// code blocks (an unclosed fence while streaming renders as code), > quotes, - / * / 1. lists
// (nested by indentation), --- rules, [links](https://...) and | tables |.
"use strict";

(function (root) {
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  }

  function safeUrl(url) {
    const trimmed = url.trim();
    return /^(https?:\/\/|mailto:)/i.test(trimmed) ? trimmed : null;
  }

  // Inline markup on one escaped line. Code spans are cut out first so nothing inside them
  // is formatted; links are resolved on the raw text so their URL can be checked unescaped.
  function inline(raw) {
    const slots = [];
    const keep = (html) => `\u0000${slots.push(html) - 1}\u0000`;
    let text = raw.replace(/\u0000/g, "").replace(/`([^`]+)`/g, (_, code) => keep(`<code>${escapeHtml(code)}</code>`));
    text = text.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label, url) => {
      const href = safeUrl(url);
      if (!href) return whole;
      return keep(`<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${inlineFormat(escapeHtml(label))}</a>`);
    });
    text = inlineFormat(escapeHtml(text));
    return text.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
  }

  function inlineFormat(html) {
    return html
      .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
      .replace(/__(?=\S)([\s\S]*?\S)__/g, "<strong>$1</strong>")
      .replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?!\*)/g, "$1<em>$2</em>")
      .replace(/(^|[^_\w])_(?=\S)([^_]*?\S)_(?![_\w])/g, "$1<em>$2</em>")
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  }

  const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

  function cells(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => inline(c.trim()));
  }

  function renderList(lines, start) {
    // Items at the first line's indentation; deeper-indented items form nested lists.
    const base = LIST_ITEM.exec(lines[start])[1].length;
    const ordered = /\d/.test(LIST_ITEM.exec(lines[start])[2]);
    const items = [];
    let i = start;
    while (i < lines.length) {
      const match = LIST_ITEM.exec(lines[i]);
      if (!match) {
        if (lines[i].trim() && items.length && /^\s{2,}/.test(lines[i])) {
          items[items.length - 1].text += " " + lines[i].trim();  // a wrapped item line
          i++;
          continue;
        }
        break;
      }
      const indent = match[1].length;
      if (indent < base) break;
      if (indent > base && items.length) {
        const nested = renderList(lines, i);
        items[items.length - 1].children += nested.html;
        i = nested.next;
        continue;
      }
      items.push({ text: match[3], children: "" });
      i++;
    }
    const tag = ordered ? "ol" : "ul";
    const body = items.map((it) => `<li>${inline(it.text)}${it.children}</li>`).join("");
    return { html: `<${tag}>${body}</${tag}>`, next: i };
  }

  function render(source) {
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let paragraph = [];
    const flush = () => {
      if (paragraph.length) out.push(`<p>${paragraph.map(inline).join("<br>")}</p>`);
      paragraph = [];
    };
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
      if (fence) {
        flush();
        const body = [];
        i++;
        while (i < lines.length && !new RegExp(`^\\s*${fence[1]}\\s*$`).test(lines[i])) body.push(lines[i++]);
        i++;  // the closing fence (or the end, while a stream is still writing the block)
        const lang = fence[2] ? ` class="language-${escapeHtml(fence[2].toLowerCase())}"` : "";
        out.push(`<pre><code${lang}>${escapeHtml(body.join("\n"))}</code></pre>`);
        continue;
      }
      if (!line.trim()) { flush(); i++; continue; }
      const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading) {
        flush();
        const level = heading[1].length;
        out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
        i++;
        continue;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); out.push("<hr>"); i++; continue; }
      if (/^\s*>/.test(line)) {
        flush();
        const quoted = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
        out.push(`<blockquote>${render(quoted.join("\n"))}</blockquote>`);
        continue;
      }
      if (LIST_ITEM.test(line)) {
        flush();
        const list = renderList(lines, i);
        out.push(list.html);
        i = list.next;
        continue;
      }
      if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
        flush();
        const head = cells(line);
        i += 2;
        const rows = [];
        while (i < lines.length && lines[i].includes("|") && lines[i].trim()) rows.push(cells(lines[i++]));
        const th = head.map((c) => `<th>${c}</th>`).join("");
        const tb = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
        out.push(`<div class="table"><table><thead><tr>${th}</tr></thead><tbody>${tb}</tbody></table></div>`);
        continue;
      }
      paragraph.push(line.trim());
      i++;
    }
    flush();
    return out.join("\n");
  }

  root.Markdown = { render, escapeHtml };
})(typeof window !== "undefined" ? window : globalThis);
