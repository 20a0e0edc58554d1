// The demo page: wires the call, the meters, the figures and the views to the DOM.

import { Call } from "./call.js";
import { Meters } from "./meters.js";
import { BrowserStats, resetStats, showServerStats } from "./stats.js";
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
  v2v: $("v2v"),
  v2vParts: $("v2v-parts"),
  traffic: $("traffic"),
};
const meta = { session: $("session-id"), duration: $("duration") };

// Read-only window onto the page for tests and curious humans; the UI never reads it.
const hook = {
  state: "idle",
  model: null,
  events: [],
  transcript: [],
  stats: { server: null, browser: null, browserHistory: [] },
  levels: {},
  error: null,
  pc: null,
};
window.edgevoice = hook;

const log = new EventLog($("log"), $("show-stats"));
const transcript = new Transcript($("transcript"));
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
  ui.toggle.disabled = state === "stopping";
  ui.model.disabled = busy || state === "stopping";
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
      break;
    case "transcript":
      hook.transcript.push({ role: event.role, text: event.text, item_id: event.item_id });
      transcript.final(event.role, event.item_id, event.text);
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
  meta.session.textContent = "—";
  meta.duration.textContent = "—";
  hook.events.length = 0;
  hook.transcript.length = 0;
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
    await current.start(hook.model);
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

function preselectModel() {
  const wanted = new URLSearchParams(location.search).get("model");
  if (!wanted) return;
  if (![...ui.model.options].some((o) => o.value === wanted)) {
    ui.model.add(new Option(wanted, wanted));
  }
  ui.model.value = wanted;
}

preselectModel();
setState("idle");
log.note("page ready");
