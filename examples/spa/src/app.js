// The whole client: fetch for the JSON API, EventSource for live state, WebSocket for chat.
// window.checks collects what worked, for tests/test_browser.py.
"use strict";
window.checks = { fetch: null, sse: null, ws: null };

function show(id, text, ok) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.className = ok ? "ok" : "err";
}

async function load() {
  try {
    const r = await fetch("/api/state");
    const state = await r.json();
    window.checks.fetch = state;
    show("fetch", JSON.stringify(state), true);
  } catch (e) {
    show("fetch", String(e), false);
  }
}

document.getElementById("toggle").onclick = async () => {
  const r = await fetch("/api/state");
  const on = !(await r.json()).led;
  await fetch("/api/led", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ on }),
  });
};

const events = new EventSource("/events");
events.addEventListener("state", (e) => {
  window.checks.sse = { id: e.lastEventId, data: JSON.parse(e.data) };
  show("sse", `#${e.lastEventId} ${e.data}`, true);
});
events.onerror = () => show("sse", "reconnecting…", false);

const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onopen = () => ws.send("hello from the browser");
ws.onmessage = (e) => {
  window.checks.ws = e.data;
  show("ws", e.data, true);
};
ws.onclose = (e) => show("ws", `closed ${e.code}`, false);

load();
