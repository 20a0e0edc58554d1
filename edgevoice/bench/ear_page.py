"""The browser side of the mouth-to-ear measurement: scripts run in the page.

An AudioWorklet onset detector, the page setup (WebAudio tone source as the
microphone, the remote track into the detector), connecting, burst scheduling and
the browser's own stats, each evaluated by Playwright from ``mouth_to_ear.py``.
"""

from __future__ import annotations

# The onset detector runs on the audio rendering thread. `currentFrame` is the context
# frame of the block's first sample, so an onset's time is exact to the sample.
WORKLET = """
class OnsetDetector extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.threshold = options.processorOptions.threshold;
    this.holdoff = options.processorOptions.holdoff;
    this.last = -1e9;
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      if (Math.abs(channel[i]) < this.threshold) continue;
      const t = (currentFrame + i) / sampleRate;
      if (t - this.last >= this.holdoff) {
        this.last = t;
        this.port.postMessage(t);
      }
    }
    return true;
  }
}
registerProcessor("onset-detector", OnsetDetector);
"""

# Page side, step 1: audio graph, peer connection, offer. Leaves state on window.m2e.
SETUP = r"""
async (opts) => {
  const permit = await navigator.mediaDevices.getUserMedia({ audio: true });
  for (const t of permit.getTracks()) t.stop();
  const ctx = new AudioContext({ latencyHint: "interactive" });
  await ctx.resume();
  const blob = new Blob([opts.worklet], { type: "application/javascript" });
  await ctx.audioWorklet.addModule(URL.createObjectURL(blob));

  const osc = new OscillatorNode(ctx, { frequency: opts.toneHz });
  const gate = new GainNode(ctx, { gain: 0 });
  const mic = ctx.createMediaStreamDestination();
  osc.connect(gate).connect(mic);
  osc.start();

  const m = { ctx, gate, sent: [], onsets: [], serverStats: null, trackAt: null };
  window.m2e = m;
  const detector = new AudioWorkletNode(ctx, "onset-detector", {
    processorOptions: { threshold: opts.threshold, holdoff: opts.holdoff },
  });
  detector.port.onmessage = (e) => m.onsets.push(e.data);
  detector.connect(ctx.destination); // keeps the node pulled; it outputs silence

  const tune = (receiver) => {
    m.receiver = receiver;
    if (opts.playoutDelayHint !== null) receiver.playoutDelayHint = opts.playoutDelayHint;
    if (opts.jitterBufferTarget !== null) receiver.jitterBufferTarget = opts.jitterBufferTarget;
  };
  const hear = (ev) => {
    tune(ev.receiver);
    const stream = ev.streams[0] || new MediaStream([ev.track]);
    // Chromium only feeds a remote track to WebAudio while a media element plays it.
    const sink = new Audio();
    sink.muted = true;
    sink.srcObject = stream;
    sink.play().catch(() => {});
    m.sink = sink;
    ctx.createMediaStreamSource(stream).connect(detector);
    m.trackAt = ctx.currentTime;
  };
  const track = mic.stream.getAudioTracks()[0];

  if (opts.direct) {
    // Calibration: the same bursts through Chromium alone, one peer connection to
    // another in this page, no server. Only 127.0.0.1 candidates cross between them.
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    const pass = (to) => (e) => {
      if (e.candidate && / 127\.0\.0\.1 /.test(e.candidate.candidate)) {
        to.addIceCandidate(e.candidate).catch(() => {});
      }
    };
    a.onicecandidate = pass(b);
    b.onicecandidate = pass(a);
    a.addTransceiver(track, { direction: "sendonly", streams: [mic.stream] });
    b.ontrack = hear;
    m.pc = b;
    m.sender = a;
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    return null;
  }

  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  m.pc = pc;
  const tx = pc.addTransceiver(track, { direction: "sendrecv", streams: [mic.stream] });
  tune(tx.receiver);
  const events = pc.createDataChannel("events");
  events.onmessage = (msg) => {
    try {
      const event = JSON.parse(msg.data);
      if (event.type === "stats") m.serverStats = event;
    } catch { /* not JSON: ignore */ }
  };
  pc.ontrack = hear;
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 3000);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }
  return pc.localDescription.sdp;
}
"""

# Step 2: the answer, then wait until media flows.
CONNECT = """
async ({ sdp, timeoutMs }) => {
  const m = window.m2e;
  if (sdp !== null) await m.pc.setRemoteDescription({ type: "answer", sdp });
  const until = performance.now() + timeoutMs;
  while (m.pc.connectionState !== "connected" || m.trackAt === null) {
    if (m.pc.connectionState === "failed") throw new Error("the peer connection failed");
    if (performance.now() > until) throw new Error(`not connected: ${m.pc.connectionState}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { sampleRate: m.ctx.sampleRate, baseLatency: m.ctx.baseLatency,
           outputLatency: m.ctx.outputLatency ?? null };
}
"""

# Step 3: schedule every burst on the audio clock; record their start times.
SCHEDULE = """
({ interval, offsets, duration, amplitude, lead }) => {
  const m = window.m2e;
  const ramp = 0.002;
  const g = m.gate.gain;
  const t0 = m.ctx.currentTime + lead;
  m.sent = [];
  m.onsets = [];
  for (let k = 0; k < offsets.length; k++) {
    const t = t0 + k * interval + offsets[k];
    g.setValueAtTime(0, t);
    g.linearRampToValueAtTime(amplitude, t + ramp);
    g.setValueAtTime(amplitude, t + duration - ramp);
    g.linearRampToValueAtTime(0, t + duration);
    m.sent.push(t);
  }
  return { first: t0, last: m.sent[m.sent.length - 1] };
}
"""

# Browser-side figures: the receive jitter buffer and the path's round trip.
BROWSER_STATS = """
async () => {
  const m = window.m2e;
  const out = { now: m.ctx.currentTime };
  (await m.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.inbound = {
        jitterBufferDelay: s.jitterBufferDelay,
        jitterBufferTargetDelay: s.jitterBufferTargetDelay,
        jitterBufferMinimumDelay: s.jitterBufferMinimumDelay,
        jitterBufferEmittedCount: s.jitterBufferEmittedCount,
        jitter: s.jitter, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost,
        concealedSamples: s.concealedSamples, totalSamplesReceived: s.totalSamplesReceived,
        insertedSamplesForDeceleration: s.insertedSamplesForDeceleration,
        removedSamplesForAcceleration: s.removedSamplesForAcceleration,
      };
    }
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      out.pairRtt = s.currentRoundTripTime;
      out.local = s.localCandidateId;
      out.remote = s.remoteCandidateId;
    }
    if (s.type === "remote-inbound-rtp" && s.kind === "audio") out.remoteRtt = s.roundTripTime;
  });
  out.playoutDelayHint = m.receiver.playoutDelayHint ?? null;
  out.jitterBufferTarget = m.receiver.jitterBufferTarget ?? null;
  return out;
}
"""
