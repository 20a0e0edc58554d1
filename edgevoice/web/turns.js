// Voice-to-voice latency per answered turn: the last figure, its parts, and a short history.

import { fmt } from "./stats.js";

const KEEP = 12;

// The parts of a turn, in the order they happen. `other` is what the three measured
// hops do not cover (mostly the reply's wait for its playout slot).
const PARTS = [
  ["ingress", "ingress_ms", "in"],
  ["model", "model_first_audio_ms", "model first audio"],
  ["egress", "egress_ms", "out"],
];

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

export class TurnPanel {
  /**
   * @param {{value: HTMLElement, parts: HTMLElement, bar: HTMLElement, history: HTMLElement,
   *          summary: HTMLElement}} els
   */
  constructor(els) {
    this.els = els;
    this.turns = [];
    this.server = null; // the server's own summary: bridge.turns.voice_to_voice_ms
    this.reset();
  }

  reset() {
    this.turns = [];
    this.server = null;
    const { value, parts, bar, history, summary } = this.els;
    value.textContent = "—";
    value.classList.add("pending");
    parts.replaceChildren();
    parts.textContent = "shown after the first answer";
    bar.replaceChildren();
    bar.hidden = true;
    history.replaceChildren();
    summary.textContent = "";
  }

  /** A `turn` event, or a `last_turn` from a stats event; each turn counts once. */
  add(turn) {
    if (!turn || !finite(turn.voice_to_voice_ms)) return false;
    if (turn.item_id && this.turns.some((t) => t.item_id === turn.item_id)) return false;
    this.turns.push({ ...turn });
    if (this.turns.length > 200) this.turns.shift();
    this._render();
    return true;
  }

  /** The server's turn summary (`bridge.turns` in a stats event). */
  summary(turns) {
    const v2v = turns?.voice_to_voice_ms;
    if (!v2v || !v2v.count) return;
    this.server = { count: turns.count ?? v2v.count, p50: v2v.p50, p90: v2v.p90 };
    this._renderSummary();
  }

  _render() {
    const last = this.turns[this.turns.length - 1];
    const { value, parts, bar } = this.els;
    value.textContent = fmt.ms(last.voice_to_voice_ms);
    value.classList.remove("pending");

    const known = PARTS.filter(([, key]) => finite(last[key]));
    const covered = known.reduce((sum, [, key]) => sum + Math.max(0, last[key]), 0);
    const rest = Math.max(0, last.voice_to_voice_ms - covered);
    const segments = known.map(([name, key, label]) => [name, Math.max(0, last[key]), label]);
    if (rest >= 1) segments.push(["other", rest, "playout wait"]);
    const total = segments.reduce((sum, [, v]) => sum + v, 0) || 1;

    bar.replaceChildren(
      ...segments.map(([name, v, label]) => {
        const seg = document.createElement("span");
        seg.className = `seg ${name}`;
        seg.style.flexGrow = String(v / total);
        seg.title = `${label}: ${fmt.ms(v)}`;
        return seg;
      }),
    );
    bar.hidden = false;
    parts.replaceChildren(
      ...segments.map(([name, v, label]) => {
        const item = document.createElement("span");
        item.className = `part ${name}`;
        item.dataset.part = name;
        const swatch = document.createElement("i");
        swatch.setAttribute("aria-hidden", "true");
        const text = document.createElement("span");
        text.textContent = `${label} `;
        const num = document.createElement("b");
        num.className = "num";
        num.textContent = fmt.ms(v);
        item.append(swatch, text, num);
        return item;
      }),
    );
    this._renderHistory();
    this._renderSummary();
  }

  _renderHistory() {
    const recent = this.turns.slice(-KEEP);
    if (recent.length < 2) return this.els.history.replaceChildren(); // one bar says nothing
    const top = Math.max(...recent.map((t) => t.voice_to_voice_ms), 1);
    this.els.history.replaceChildren(
      ...recent.map((t, i) => {
        const col = document.createElement("span");
        col.className = "col";
        if (i === recent.length - 1) col.classList.add("last");
        col.style.height = `${Math.max(8, (t.voice_to_voice_ms / top) * 100).toFixed(1)}%`;
        col.title = `turn ${this.turns.length - recent.length + i + 1}: ${fmt.ms(t.voice_to_voice_ms)}`;
        return col;
      }),
    );
  }

  _renderSummary() {
    const n = this.server?.count ?? this.turns.length;
    if (!n) return;
    const p50 = this.server?.p50 ?? median(this.turns.map((t) => t.voice_to_voice_ms));
    const bits = [`${n} turn${n === 1 ? "" : "s"}`, `p50 ${fmt.ms(p50)}`];
    if (this.server?.p90 != null && n >= 5) bits.push(`p90 ${fmt.ms(this.server.p90)}`);
    this.els.summary.textContent = bits.join(" · ");
  }
}
