// The event log and the transcript: plain DOM lists, newest at the bottom.

import { fmt } from "./stats.js";

const MAX_LOG_ROWS = 400;

function nearBottom(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}

function clock(seconds) {
  const d = seconds ? new Date(seconds * 1000) : new Date();
  return d.toLocaleTimeString("en-GB", { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/** A one-line, human summary of an event; unknown types show their fields. */
export function describe(event) {
  switch (event.type) {
    case "state":
      return event.state;
    case "stats": {
      const lat = event.bridge?.latency_ms || {};
      const bits = [];
      if (event.rtt_seconds != null) bits.push(`rtt ${fmt.seconds(event.rtt_seconds)}`);
      if (event.jitter_seconds != null) bits.push(`jitter ${fmt.seconds(event.jitter_seconds)}`);
      if (event.fraction_lost != null) bits.push(`loss ${fmt.percent(event.fraction_lost)}`);
      if (lat.ingress?.count) bits.push(`in p50 ${fmt.ms(lat.ingress.p50)}`);
      if (lat.egress?.count) bits.push(`out p50 ${fmt.ms(lat.egress.p50)}`);
      const v2v = event.bridge?.last_turn?.voice_to_voice_ms;
      if (v2v != null) bits.push(`turn ${fmt.ms(v2v)}`);
      return bits.join(" · ") || "—";
    }
    case "transcript":
      return `${event.role}: ${event.text}`;
    case "transcript.delta":
      return `${event.role} … ${event.delta}`;
    case "barge_in":
      return `interrupted after ${fmt.ms(event.played_ms)}`;
    case "response.done":
      return event.status || "";
    case "error":
      return `${event.message || "error"}${event.code ? ` (${event.code})` : ""}`;
    case "model.connection":
      return `${event.connected ? "connected" : "disconnected"}${event.detail ? ` — ${event.detail}` : ""}`;
    case "tool.call":
      return `${event.name || "?"}${event.call_id ? ` (${event.call_id})` : ""}`;
    case "turn": {
      const bits = [`voice to voice ${fmt.ms(event.voice_to_voice_ms)}`];
      if (event.model_first_audio_ms != null) bits.push(`model ${fmt.ms(event.model_first_audio_ms)}`);
      if (event.ingress_ms != null) bits.push(`in ${fmt.ms(event.ingress_ms)}`);
      if (event.egress_ms != null) bits.push(`out ${fmt.ms(event.egress_ms)}`);
      return bits.join(" · ");
    }
    case "session.closing":
      return event.reason || "";
    case "speech_started":
    case "speech_stopped":
    case "response.created":
      return "";
    default: {
      const { seq, time, type, ...rest } = event;
      const text = JSON.stringify(rest);
      return text === "{}" ? "" : text.slice(0, 240);
    }
  }
}

export class EventLog {
  constructor(list, showStats) {
    this.list = list;
    this.showStats = showStats;
    showStats.addEventListener("change", () => this.list.classList.toggle("hide-stats", !showStats.checked));
  }

  add(event, local = false) {
    const stick = nearBottom(this.list);
    const li = document.createElement("li");
    const kind = local ? "local" : String(event.type || "unknown");
    li.className = "ev";
    li.dataset.type = kind;
    const time = document.createElement("time");
    time.textContent = clock(event.time);
    const badge = document.createElement("span");
    badge.className = "type";
    badge.textContent = local ? "page" : kind;
    badge.title = badge.textContent;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = local ? event.text : describe(event);
    li.append(time, badge, text);
    this.list.append(li);
    while (this.list.childElementCount > MAX_LOG_ROWS) this.list.firstElementChild.remove();
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  note(text) {
    this.add({ text }, true);
  }

  clear() {
    this.list.replaceChildren();
  }
}

export class Transcript {
  constructor(list) {
    this.list = list;
    this.placeholder = list.firstElementChild;
    this.lines = new Map();
  }

  _line(role, id) {
    const key = id || `${role}-${this.lines.size}`;
    let li = this.lines.get(key);
    if (!li) {
      this.placeholder?.remove();
      li = document.createElement("li");
      li.className = `line ${role === "user" ? "user" : "assistant"}`;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = role === "user" ? "You" : "Assistant";
      const text = document.createElement("span");
      text.className = "said";
      li.append(who, text);
      this.list.append(li);
      this.lines.set(key, li);
    }
    return li;
  }

  delta(role, id, delta) {
    const stick = nearBottom(this.list);
    const li = this._line(role, id);
    li.classList.add("live");
    li.querySelector(".said").textContent += delta;
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  /** A tool the model called, shown between the question and the answer. */
  tool(name, callId) {
    const stick = nearBottom(this.list);
    const key = `tool:${callId || `${name}-${this.lines.size}`}`;
    if (this.lines.has(key)) return;
    this.placeholder?.remove();
    const li = document.createElement("li");
    li.className = "line tool";
    li.dataset.tool = name;
    const text = document.createElement("span");
    text.className = "said";
    text.textContent = `⚙ ${name}`;
    li.title = callId ? `tool call ${callId}` : "tool call";
    li.append(text);
    this.list.append(li);
    this.lines.set(key, li);
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  /** A small note under a line already shown (how long the answer took, a barge-in). */
  annotate(id, kind, text) {
    const li = this.lines.get(id);
    if (!li) return false;
    let note = li.querySelector(`.note[data-kind="${kind}"]`);
    if (!note) {
      note = document.createElement("span");
      note.className = "note";
      note.dataset.kind = kind;
      li.append(note);
    }
    note.textContent = text;
    return true;
  }

  final(role, id, text) {
    const stick = nearBottom(this.list);
    const li = this._line(role, id);
    li.classList.remove("live");
    li.querySelector(".said").textContent = text;
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  clear() {
    this.lines.clear();
    this.list.replaceChildren();
    if (this.placeholder) this.list.append(this.placeholder);
  }
}
