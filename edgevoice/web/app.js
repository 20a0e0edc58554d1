// The demo page: wires the call, the meters, the figures and the views to the DOM.

import { Call } from "./call.js";
import { Meters } from "./meters.js";
import { measureRegions } from "./nearest.js";
import { BrowserStats, fmt, resetStats, showServerStats } from "./stats.js";
import { TurnPanel } from "./turns.js";
import { EventLog, Transcript } from "./views.js";

const $ = (id) => document.getElementById(id);

const ui = {
  pill: $("pill"),
  pillText: $("pill-text"),
  toggle: $("toggle"),
  toggleText: $("toggle-text"),
  model: $("model"),
  status: $("status"),
  problem: $("problem"),
  remote: $("remote"),
};
const figures = {
  server: $("server-stats"),
  browser: $("browser-stats"),
  traffic: $("traffic"),
};
const meta = { session: $("session-id"), duration: $("duration") };

// Read-only window onto the page for tests and curious humans; the UI never reads it.
const hook = {
  state: "loading",
  config: null,
  model: null,
  events: [],
  transcript: [],
  tools: [],
  turns: [],
  stats: { server: null, browser: null, browserHistory: [] },
  levels: {},
  error: null,
  pc: null,
  placement: null,
};
window.edgevoice = hook;

const log = new EventLog($("log"), $("show-stats"));
const transcript = new Transcript($("transcript"));
const turns = new TurnPanel({
  value: $("v2v"),
  parts: $("v2v-parts"),
  bar: $("v2v-bar"),
  history: $("v2v-history"),
  summary: $("v2v-summary"),
});
const meters = new Meters({
  mic: { fill: $("mic-level"), label: $("mic-db") },
  reply: { fill: $("reply-level"), label: $("reply-db") },
});
hook.levels = meters.levels;
const browserStats = new BrowserStats(figures, (snap) => {
  hook.stats.browser = snap;
  hook.stats.browserHistory.push(snap);
  if (hook.stats.browserHistory.length > 120) hook.stats.browserHistory.shift();
});

let call = null;
const clock = { timer: 0, since: 0 };

function startClock() {
  stopClock();
  clock.since = performance.now();
  const tick = () => {
    const s = Math.floor((performance.now() - clock.since) / 1000);
    meta.duration.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  tick();
  clock.timer = setInterval(tick, 1000);
}

function stopClock() {
  if (clock.timer) clearInterval(clock.timer);
  clock.timer = 0;
}

const LABELS = {
  loading: "loading",
  idle: "idle",
  starting: "starting",
  connecting: "connecting",
  connected: "live",
  stopping: "hanging up",
  closed: "ended",
  failed: "failed",
};

function setState(state, detail = "") {
  hook.state = state;
  ui.pill.dataset.state = state;
  ui.pillText.textContent = LABELS[state] || state;
  document.body.dataset.state = state;
  const busy = state === "starting" || state === "connecting" || state === "connected";
  ui.toggle.dataset.action = busy ? "stop" : "start";
  ui.toggleText.textContent = busy ? (state === "connected" ? "End call" : "Cancel") : "Start call";
  ui.toggle.disabled = state === "stopping" || state === "loading";
  ui.model.disabled = busy || state === "stopping" || state === "loading";
  if (detail) ui.status.textContent = statusLine(state, detail);
}

function statusLine(state, detail) {
  const model = hook.model ? ` · model ${hook.model}` : "";
  switch (state) {
    case "connected":
      return `Connected${model}. Speak: ${hook.model === "echo" ? "your voice comes back" : "the assistant answers"}.`;
    case "closed":
      return `Call ended: ${detail}.`;
    case "failed":
      return `Could not start the call: ${detail}`;
    default:
      return `${detail.charAt(0).toUpperCase()}${detail.slice(1)}`;
  }
}

function showProblem(message) {
  ui.problem.textContent = message;
  ui.problem.hidden = !message;
}

function onEvent(event) {
  hook.events.push(event);
  if (hook.events.length > 1000) hook.events.splice(0, hook.events.length - 1000);
  log.add(event);
  switch (event.type) {
    case "stats":
      hook.stats.server = event;
      showServerStats(figures, event);
      turns.summary(event.bridge?.turns);
      onTurn(event.bridge?.last_turn); // covers a `turn` event this page missed
      break;
    case "turn":
      onTurn(event);
      break;
    case "transcript":
      hook.transcript.push({ role: event.role, text: event.text, item_id: event.item_id });
      transcript.final(event.role, event.item_id, event.text);
      break;
    case "tool.call":
      hook.tools.push({ name: event.name, call_id: event.call_id });
      transcript.tool(event.name || "tool", event.call_id);
      break;
    case "barge_in":
      transcript.annotate(event.item_id, "barge", `interrupted after ${fmt.ms(event.played_ms)}`);
      break;
    case "model.connection":
      if (!event.connected) {
        ui.status.textContent = `The model link dropped${event.detail ? ` (${event.detail})` : ""}; reconnecting…`;
      } else if (event.reconnect_seconds != null) {
        ui.status.textContent = `Model link back after ${fmt.seconds(event.reconnect_seconds)}.`;
      }
      break;
    case "transcript.delta":
      transcript.delta(event.role, event.item_id, event.delta || "");
      break;
    case "error":
      ui.status.textContent = `Server error: ${event.message || event.code || "unknown"}`;
      break;
    default:
      break;
  }
}

function onTurn(turn) {
  if (!turns.add(turn)) return;
  hook.turns.push({ ...turn });
  // The turn is keyed by the caller's item: note on that line how long the answer took.
  transcript.annotate(turn.item_id, "v2v", `answered in ${fmt.ms(turn.voice_to_voice_ms)}`);
}

function onTrack(stream) {
  ui.remote.srcObject = stream;
  ui.remote.muted = false;
  const played = ui.remote.play();
  if (played) {
    played.catch((err) => log.note(`reply audio could not autoplay: ${err.message}; click the page`));
  }
  meters.attach("reply", stream);
  log.note("reply audio track received");
}

function onCallState(state, detail) {
  if (call?.pc) hook.pc = call.pc;
  if (call?.session) meta.session.textContent = call.session.id;
  const wasLive = hook.state === "connected";
  setState(state, detail);
  if (state === "connected" && !wasLive) startClock();
  if (state === "connected" && call?.pc) browserStats.start(call.pc);
  if (state === "closed") {
    teardownMedia();
    log.note(`call ended: ${detail}`);
  }
}

function teardownMedia() {
  stopClock();
  browserStats.stop();
  meters.stop();
  ui.remote.pause();
  ui.remote.srcObject = null;
}

async function startCall() {
  meters.prime(); // inside the click: browsers only let a gesture start audio
  showProblem("");
  transcript.clear();
  resetStats(figures);
  turns.reset();
  meta.session.textContent = "—";
  meta.duration.textContent = "—";
  hook.events.length = 0;
  hook.transcript.length = 0;
  hook.tools.length = 0;
  hook.turns.length = 0;
  hook.stats.server = null;
  hook.stats.browser = null;
  hook.stats.browserHistory.length = 0;
  hook.error = null;
  hook.model = ui.model.value;
  log.note(`starting a call with model ${hook.model}`);

  const current = new Call({
    onState: (state, detail) => {
      if (call === current) onCallState(state, detail);
    },
    onEvent: (event) => {
      if (call === current) onEvent(event);
    },
    onTrack: (stream) => {
      if (call === current) onTrack(stream);
    },
    onLocalStream: (stream) => meters.attach("mic", stream),
  });
  call = current;
  try {
    hook.placement = await choosePlacement();
    if (call !== current) return;
    await current.start(hook.model, hook.placement);
  } catch (err) {
    if (call !== current) return;
    const message = err.message || String(err);
    hook.error = message;
    showProblem(message);
    log.note(`failed: ${message}`);
    await current.stop(true, "could not start");
    teardownMedia();
    setState("failed", message);
  }
}

/** `?region=` if given, else the RTT this browser measured to each region's ping URL. */
async function choosePlacement() {
  const region = new URLSearchParams(location.search).get("region");
  if (region) return { region };
  try {
    const rtts = await measureRegions();
    if (!Object.keys(rtts).length) return {};
    log.note(`region RTTs: ${Object.entries(rtts).map(([r, ms]) => `${r} ${ms} ms`).join(", ")}`);
    return { client_rtt_ms: rtts };
  } catch (err) {
    log.note(`regions not timed: ${err.message || err}`);
    return {};
  }
}

async function stopCall() {
  if (!call) return;
  log.note("hanging up");
  await call.stop(true, "you hung up");
}

ui.toggle.addEventListener("click", () => {
  if (ui.toggle.dataset.action === "stop") stopCall();
  else startCall();
});
$("clear-log").addEventListener("click", () => log.clear());
window.addEventListener("pagehide", () => call?.stop(true, "page closed"));

const MODEL_LABELS = {
  local: "local — offline speech model",
  echo: "echo — hear yourself back",
  "gpt-realtime": "gpt-realtime — OpenAI Realtime",
};
const CONFIG_TIMEOUT_MS = 3000;

/** What the server can run: `{models, default_model}`, or null when it does not say. */
async function fetchConfig() {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CONFIG_TIMEOUT_MS);
  try {
    const response = await fetch("/v1/demo/config", { signal: abort.signal });
    if (!response.ok) return null;
    const body = await response.json();
    if (!Array.isArray(body.models) || !body.models.length) return null;
    return body;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Fill the picker from the config (or keep the built-in list), then apply `?model=`. */
function applyModels(config) {
  const wanted = new URLSearchParams(location.search).get("model");
  if (config) {
    ui.model.replaceChildren(
      ...config.models.map((name) => new Option(MODEL_LABELS[name] || name, name)),
    );
    const fallback = config.models.includes(config.default_model) ? config.default_model : config.models[0];
    ui.model.value = fallback;
    if (wanted && config.models.includes(wanted)) ui.model.value = wanted;
    else if (wanted) log.note(`model ${wanted} is not available on this server; using ${fallback}`);
    return;
  }
  // No config endpoint (an older or locked-down server): offer the built-in list.
  if (wanted && ![...ui.model.options].some((o) => o.value === wanted)) {
    ui.model.add(new Option(wanted, wanted));
  }
  if (wanted) ui.model.value = wanted;
}

async function boot() {
  const config = await fetchConfig();
  hook.config = config;
  applyModels(config);
  setState("idle");
  ui.status.textContent = "Ready. Pick a model and start a call.";
  log.note(config ? `page ready · models: ${config.models.join(", ")}` : "page ready (no model list from the server)");
}

setState("loading");
boot();
