// Latency and network figures: the server's `stats` events and the browser's getStats().

export const fmt = {
  ms(value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
  },
  seconds(value) {
    return value === null || value === undefined ? "—" : fmt.ms(value * 1000);
  },
  percent(value) {
    if (value === null || value === undefined) return "—";
    return `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)} %`;
  },
  count(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en");
  },
};

function fill(dl, values) {
  for (const dd of dl.querySelectorAll("dd[data-k]")) {
    const value = values[dd.dataset.k];
    dd.textContent = value ?? "—";
  }
}

function pair(hop) {
  if (!hop || !hop.count) return "—";
  return `${fmt.ms(hop.p50)} / ${fmt.ms(hop.p99)}`;
}

/** Render a server `stats` event into the server column. */
export function showServerStats(els, event) {
  const bridge = event.bridge || {};
  const latency = bridge.latency_ms || {};
  const caller = event.tracks?.caller_audio || {};
  const reply = event.tracks?.reply_audio || {};
  fill(els.server, {
    rtt: fmt.seconds(event.rtt_seconds),
    jitter: fmt.seconds(event.jitter_seconds),
    loss: fmt.percent(event.fraction_lost),
    ingress: pair(latency.ingress),
    egress: pair(latency.egress),
    frames: `${fmt.count(caller.frames)} / ${fmt.count(reply.frames)}`,
  });
}

/** Pull the figures this page shows out of one RTCStatsReport. */
export function summarise(report) {
  const out = { at: performance.now() };
  let selectedPair = null;
  const pairs = [];
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) selectedPair = s.selectedCandidatePairId;
    if (s.type === "candidate-pair") pairs.push(s);
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.inbound = {
        jitter: s.jitter,
        packetsReceived: s.packetsReceived,
        packetsLost: s.packetsLost,
        bytesReceived: s.bytesReceived,
        audioLevel: s.audioLevel,
        totalAudioEnergy: s.totalAudioEnergy,
        totalSamplesDuration: s.totalSamplesDuration,
        jitterBufferDelay: s.jitterBufferDelay,
        jitterBufferEmittedCount: s.jitterBufferEmittedCount,
      };
    }
    if (s.type === "remote-inbound-rtp" && s.kind === "audio") {
      out.remoteInbound = { roundTripTime: s.roundTripTime, fractionLost: s.fractionLost };
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") {
      out.outbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent };
    }
  });
  const chosen =
    pairs.find((p) => p.id === selectedPair) ||
    pairs.find((p) => p.nominated && p.state === "succeeded");
  if (chosen) out.pair = { currentRoundTripTime: chosen.currentRoundTripTime };
  return out;
}

function bytes(n) {
  if (n === undefined || n === null) return "—";
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(2)} MB`;
}

/** Mean jitter-buffer delay (s) of the samples played since the previous snapshot. */
function bufferDelay(snap, prev) {
  const now = snap.inbound;
  if (!now || !now.jitterBufferEmittedCount) return null;
  const before = prev?.inbound;
  const emitted = now.jitterBufferEmittedCount - (before?.jitterBufferEmittedCount || 0);
  const delay = now.jitterBufferDelay - (before?.jitterBufferDelay || 0);
  if (emitted > 0 && delay >= 0) return delay / emitted;
  return now.jitterBufferDelay / now.jitterBufferEmittedCount;
}

function showBrowserStats(els, snap, prev) {
  if (els.traffic) els.traffic.textContent = `${bytes(snap.outbound?.bytesSent)} / ${bytes(snap.inbound?.bytesReceived)}`;
  const inbound = snap.inbound || {};
  const lost = inbound.packetsLost;
  const received = inbound.packetsReceived;
  const inLoss = received ? Math.max(0, lost || 0) / (received + Math.max(0, lost || 0)) : null;
  fill(els.browser, {
    pairRtt: fmt.seconds(snap.pair?.currentRoundTripTime),
    remoteRtt: fmt.seconds(snap.remoteInbound?.roundTripTime),
    jitter: fmt.seconds(inbound.jitter),
    buffer: fmt.seconds(bufferDelay(snap, prev)),
    loss: `${fmt.percent(inLoss)} / ${fmt.percent(snap.remoteInbound?.fractionLost)}`,
    packets: fmt.count(received),
    energy: inbound.totalAudioEnergy === undefined ? "—" : inbound.totalAudioEnergy.toFixed(4),
  });
}

/** Poll pc.getStats() every second while the call lives. */
export class BrowserStats {
  constructor(els, onSnapshot) {
    this.els = els;
    this.onSnapshot = onSnapshot;
    this.timer = 0;
    this.prev = null;
  }

  start(pc) {
    this.stop();
    this.prev = null;
    const tick = async () => {
      if (pc.connectionState === "closed") return this.stop();
      try {
        const snap = summarise(await pc.getStats());
        showBrowserStats(this.els, snap, this.prev);
        this.prev = snap;
        this.onSnapshot(snap);
      } catch {
        /* the pc closed between ticks */
      }
    };
    tick();
    this.timer = setInterval(tick, 1000);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = 0;
  }
}

export function resetStats(els) {
  fill(els.server, {});
  fill(els.browser, {});
  if (els.traffic) els.traffic.textContent = "—";
}
