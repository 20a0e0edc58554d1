// Live level meters: a WebAudio AnalyserNode per stream, drawn on animation frames.

const FLOOR_DB = -60;

function levelDb(analyser, buffer) {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (let i = 0; i < buffer.length; i++) sum += buffer[i] * buffer[i];
  const rms = Math.sqrt(sum / buffer.length);
  return rms > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(rms)) : FLOOR_DB;
}

export class Meters {
  /** @param {Record<string, {fill: HTMLElement, label: HTMLElement}>} targets */
  constructor(targets) {
    this.targets = targets;
    this.ctx = null;
    this.sources = new Map();
    this.levels = {};
    this.frame = 0;
  }

  /** Create (or resume) the AudioContext; call this inside the click handler. */
  prime() {
    if (!this.ctx) this.ctx = new AudioContext();
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  attach(name, stream) {
    if (!this.targets[name] || !stream.getAudioTracks().length) return;
    this.prime();
    this.detach(name);
    const source = this.ctx.createMediaStreamSource(stream);
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 1024;
    analyser.smoothingTimeConstant = 0.3;
    source.connect(analyser); // analysis only: never routed to the speakers
    const buffer = new Float32Array(analyser.fftSize);
    this.sources.set(name, { source, analyser, buffer, shown: FLOOR_DB });
    if (!this.frame) this.frame = requestAnimationFrame(() => this._draw());
  }

  detach(name) {
    const entry = this.sources.get(name);
    if (!entry) return;
    entry.source.disconnect();
    this.sources.delete(name);
    this._paint(name, null);
  }

  _paint(name, db) {
    const { fill, label } = this.targets[name];
    if (db === null) {
      fill.style.transform = "scaleX(0)";
      label.textContent = "—";
      delete this.levels[name];
      return;
    }
    const ratio = (db - FLOOR_DB) / -FLOOR_DB;
    fill.style.transform = `scaleX(${ratio.toFixed(3)})`;
    fill.classList.toggle("hot", db > -6);
    label.textContent = db < FLOOR_DB + 1 ? "silent" : `${db.toFixed(0)} dBFS`;
    this.levels[name] = db;
  }

  _draw() {
    for (const [name, entry] of this.sources) {
      const db = levelDb(entry.analyser, entry.buffer);
      // Fast attack, slow release, so speech reads as a steady bar.
      entry.shown = db > entry.shown ? db : entry.shown + (db - entry.shown) * 0.15;
      this._paint(name, entry.shown);
    }
    this.frame = this.sources.size ? requestAnimationFrame(() => this._draw()) : 0;
  }

  stop() {
    for (const name of [...this.sources.keys()]) this.detach(name);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
