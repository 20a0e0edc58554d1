// The operator's dashboard: polls GET /v1/dashboard with the API key every few seconds
// and draws nodes by region (RTT over time, load, hop latency, model link) and probes.
// The key comes from a #key=… fragment (then removed from the address bar) or a prompt,
// and is kept in this tab's sessionStorage only.

import { rttChart } from "./rttchart.js";

const KEY = "edgevoice.dashboard.key";
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

let timer = null;
let inFlight = false;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const ms = (v, digits = 1) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(digits)} ms`);
const pair = (a, b) => (a === null || a === undefined ? "—" : `${ms(a)} / ${ms(b)}`);

function age(seconds) {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function clock(t) {
  return new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function setPill(state, text) {
  $("pill").dataset.state = state;
  $("pill-text").textContent = text;
}

// ---- the key ----------------------------------------------------------------------
function keyFromFragment() {
  const match = location.hash.match(/(?:^#|&)key=([^&]*)/);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

function askForKey(message) {
  clearTimeout(timer);
  sessionStorage.removeItem(KEY);
  $("key-card").hidden = false;
  $("key-problem").hidden = !message;
  $("key-problem").textContent = message || "";
  $("key-input").value = "";
  $("key-input").focus();
  setPill("failed", message ? "key refused" : "API key needed");
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  $("key-card").hidden = true;
  refresh();
});

// ---- polling ----------------------------------------------------------------------
async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function refresh() {
  clearTimeout(timer);
  const key = sessionStorage.getItem(KEY);
  if (!key) { askForKey(""); return; }
  if (inFlight) return;
  inFlight = true;
  try {
    const response = await fetch("/v1/dashboard", {
      headers: { Authorization: `Bearer ${key}` }, cache: "no-store",
    });
    if (response.status === 401 || response.status === 403) {
      askForKey(`The key was refused (${response.status}): ${await problemText(response)}`);
      return;
    }
    if (!response.ok) throw new Error(await problemText(response));
    render(await response.json());
    $("problem").hidden = true;
    setPill("connected", `live · ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    $("problem").textContent = `Could not load the cluster's figures: ${err.message}`;
    $("problem").hidden = false;
    setPill("connecting", "retrying");
  } finally {
    inFlight = false;
  }
  if (sessionStorage.getItem(KEY)) timer = setTimeout(refresh, REFRESH_MS);
}

// ---- rendering --------------------------------------------------------------------
function render(data) {
  const now = data.generated_at;
  const regions = new Map();
  for (const node of data.nodes) {
    if (!regions.has(node.region)) regions.set(node.region, []);
    regions.get(node.region).push(node);
  }
  renderSummary(data, regions);
  $("regions").replaceChildren(...[...regions].map(([name, nodes]) => regionCard(name, nodes, now)));
  if (!regions.size) {
    $("regions").append(h("section", { class: "card empty-card" }, "No live nodes: nothing has heartbeated in the last few seconds."));
  }
  renderProbes(data.probes, now);
}

function renderSummary(data, regions) {
  $("summary").hidden = false;
  const load = data.nodes.reduce((a, n) => a + n.load, 0);
  const capacity = data.nodes.reduce((a, n) => a + n.capacity, 0);
  const p95s = data.nodes.map((n) => n.figures?.rtt_ms?.p95).filter((v) => v !== null && v !== undefined);
  const latest = latestProbes(data.probes);
  const bad = latest.filter((p) => p.flagged || !p.ok).length;
  $("sum-regions").textContent = String(regions.size);
  $("sum-nodes").textContent = String(data.nodes.length);
  $("sum-sessions").textContent = `${load} / ${capacity}`;
  $("sum-rtt").textContent = p95s.length ? ms(Math.max(...p95s)) : "—";
  $("sum-probes").textContent = latest.length ? `${bad} of ${latest.length}` : "—";
  $("sum-probes").classList.toggle("bad", bad > 0);
}

function regionCard(name, nodes, now) {
  const load = nodes.reduce((a, n) => a + n.load, 0);
  const capacity = nodes.reduce((a, n) => a + n.capacity, 0);
  const head = h("div", { class: "card-head" },
    h("h2", {}, "Region ", h("span", { class: "region-name" }, name)),
    h("span", { class: "hint num" }, `${nodes.length} node${nodes.length === 1 ? "" : "s"} · ${load} / ${capacity} sessions`));
  return h("section", { class: "card region", dataset: { region: name } }, head,
    h("div", { class: "nodes" }, ...nodes.map((n) => nodeRow(n, now))));
}

function nodeRow(node, now) {
  const f = node.figures || {};
  const rtt = f.rtt_ms || {};
  const hop = f.hop_ms || {};
  const samples = (node.history || []).map((s) => ({ t: s.t, p50: s.rtt_ms?.p50 ?? null, p95: s.rtt_ms?.p95 ?? null }));
  if (f.rtt_ms) samples.push({ t: now, p50: rtt.p50 ?? null, p95: rtt.p95 ?? null });
  const chart = rttChart(samples, now);
  const share = node.capacity ? Math.min(1, node.load / node.capacity) : 0;
  const bar = h("div", { class: "bar" }, h("div", { class: `fill load${share > 0.85 ? " hot" : ""}` }));
  bar.firstChild.style.transform = `scaleX(${share})`;

  const title = h("div", { class: "node-title" },
    h("span", { class: "node-id" }, node.id),
    node.draining ? h("span", { class: "badge warn" }, "draining") : null,
    node.url ? h("span", { class: "mono url" }, node.url) : null);
  const stats = h("dl", { class: "stats node-stats" },
    h("dt", {}, "Sessions (live)"), h("dd", { class: "sessions" }, `${node.load} / ${node.capacity} (${f.sessions ?? "—"})`),
    h("dt", {}, "First-hop RTT p50 / p95"), h("dd", { class: "rtt-now" }, pair(rtt.p50, rtt.p95)),
    h("dt", {}, "Ingress p50 / p99"), h("dd", { class: "hop-ingress" }, pair(hop.ingress?.p50, hop.ingress?.p99)),
    h("dt", {}, "Egress p50 / p99"), h("dd", { class: "hop-egress" }, pair(hop.egress?.p50, hop.egress?.p99)),
    h("dt", {}, "Node → model link"), h("dd", { class: "model-link" }, ms(f.model_link_rtt_ms)));
  const legend = h("div", { class: "chart-legend" },
    h("span", { class: "key p50" }, "p50"), h("span", { class: "key p95" }, "p95"),
    h("span", { class: "num" }, `0–${chart.top} ms · since ${clock(chart.since)}`));
  const chartBox = h("div", { class: "chart", dataset: { points: String(chart.points) } }, chart.svg, legend);
  return h("article", { class: "node", dataset: { node: node.id } },
    h("div", { class: "node-main" }, title, h("div", { class: "load-row" }, bar), stats), chartBox);
}

function latestProbes(probes) {
  const latest = new Map();
  for (const p of probes || []) latest.set(p.target, p);
  return [...latest.values()];
}

function renderProbes(probes, now) {
  const latest = latestProbes(probes);
  $("probes").hidden = false;
  $("probe-empty").hidden = latest.length > 0;
  $("probe-rows").replaceChildren(...latest.map((p) => {
    const status = !p.ok ? `failed: ${p.reason || "unknown"}` : p.flagged ? "RTT above baseline" : "ok";
    const cls = !p.ok ? "failed" : p.flagged ? "flagged" : "ok";
    return h("tr", { class: cls, dataset: { target: p.target } },
      h("td", { class: "mono" }, p.target),
      h("td", {}, `${p.region ?? "—"} / ${p.node ?? "—"}`),
      h("td", { class: "num" }, age(now - p.t)),
      h("td", { class: "n" }, ms(p.setup_ms)),
      h("td", { class: "n" }, ms(p.rtt_ms)),
      h("td", { class: "n" }, ms(p.echo_rtt_ms)),
      h("td", { class: "n" }, ms(p.model_link_rtt_ms)),
      h("td", { class: "status", title: p.reason || "" }, h("span", { class: `badge ${cls}` }, status)));
  }));
}

keyFromFragment();
refresh();
