// The interop test page: unmodified third-party WHIP/WHEP clients, driven by
// tests/interop/test_browser_clients.py through window.interop.
//
// All traffic stays on 127.0.0.1: every RTCPeerConnection of the page (the libraries
// make their own) hides non-loopback ICE candidates, in the local description and in
// icecandidate events. Each remote track plays in an unmuted <audio> element (Chromium
// runs with --mute-audio) so that inbound-rtp reports audio energy.
import { WHIPClient as MedoozeWHIP } from "whip-whep/whip.js";
import { WHEPClient as MedoozeWHEP } from "whip-whep/whep.js";
import { WHIPClient as EyevinnWHIP } from "@eyevinn/whip-web-client";
import { WebRTCPlayer } from "@eyevinn/webrtc-player";

const LOOPBACK = "127.0.0.1";
const Native = window.RTCPeerConnection;
const peers = [];

function candidateAddress(line) {
  const parts = line.replace(/^a=/, "").split(" ");
  return parts.length > 5 ? parts[4] : null;
}

function loopbackSdp(sdp) {
  return sdp
    .split("\r\n")
    .filter((l) => !l.startsWith("a=candidate:") || candidateAddress(l) === LOOPBACK)
    .join("\r\n");
}

function loopbackEvent(event) {
  const c = event.candidate;
  return !c || !c.candidate || candidateAddress(c.candidate) === LOOPBACK;
}

class LoopbackPeerConnection extends Native {
  constructor(config) {
    super({ ...(config || {}), iceServers: [] });
    peers.push(this);
    super.addEventListener("track", (event) => {
      const audio = new Audio();
      audio.srcObject = new MediaStream([event.track]);
      audio.muted = false;
      audio.play().catch(() => {});
    });
  }
  get localDescription() {
    const d = super.localDescription;
    return d && { type: d.type, sdp: loopbackSdp(d.sdp), toJSON() { return { type: d.type, sdp: loopbackSdp(d.sdp) }; } };
  }
  addEventListener(type, listener, options) {
    if (type !== "icecandidate" || typeof listener !== "function") {
      return super.addEventListener(type, listener, options);
    }
    return super.addEventListener(type, (e) => loopbackEvent(e) && listener.call(this, e), options);
  }
  set onicecandidate(listener) {
    super.onicecandidate = listener ? (e) => loopbackEvent(e) && listener.call(this, e) : null;
  }
  get onicecandidate() {
    return super.onicecandidate;
  }
}
window.RTCPeerConnection = LoopbackPeerConnection;

async function microphone() {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: false });
}

function until(condition, ms, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() - started > ms) return reject(new Error("timed out waiting for " + what));
      setTimeout(tick, 50);
    };
    tick();
  });
}

// Audio energy received per mid of a peer connection (W3C inbound-rtp).
async function energy(pc) {
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out[s.mid ?? s.trackIdentifier] = { energy: s.totalAudioEnergy || 0, packets: s.packetsReceived || 0 };
    }
  });
  return out;
}

async function heard(pc, mids, ms) {
  let last = {};
  const started = Date.now();
  while (Date.now() - started < ms) {
    last = await energy(pc);
    if (mids.every((m) => (last[m]?.energy || 0) > 0.0001)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

const state = {};

window.interop = {
  peers,
  // medooze's WHIPClient: sendrecv (hears the echo), trickles by PATCH, DELETE at stop.
  async medoozeWhip(url, token) {
    const pc = new RTCPeerConnection();
    const mic = await microphone();
    pc.addTransceiver(mic.getAudioTracks()[0], { direction: "sendrecv", streams: [mic] });
    const client = new MedoozeWHIP();
    await client.publish(pc, url, token);
    await until(() => pc.connectionState === "connected", 10000, "connected");
    const mids = pc.getTransceivers().filter((t) => t.receiver.track.kind === "audio").map((t) => t.mid);
    const stats = await heard(pc, mids, 8000);
    state.medoozeWhip = client;
    return { connection: pc.connectionState, stats, mids };
  },
  async medoozeWhipStop() {
    await state.medoozeWhip.stop(); // closes its peer connection first, then DELETE
  },
  // Eyevinn's WHIP client: send-only offer, trickle when OPTIONS lists PATCH.
  async eyevinnWhip(url, token) {
    const client = new EyevinnWHIP({ endpoint: url, opts: { iceServers: [], authkey: token, debug: false } });
    await client.ingest(await microphone());
    await until(() => client.peer && client.peer.connectionState === "connected", 10000, "connected");
    state.eyevinnWhip = client;
    return { connection: client.peer.connectionState, trickle: !client.opts.noTrickleIce };
  },
  async eyevinnWhipStop() {
    await state.eyevinnWhip.destroy();
  },
  // medooze's WHEPClient with two receive-only audio sections: caller, then agent.
  async medoozeWhep(url, token) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    const client = new MedoozeWHEP();
    await client.view(pc, url, token);
    await until(() => pc.connectionState === "connected", 10000, "connected");
    const mids = pc.getTransceivers().map((t) => t.mid);
    const stats = await heard(pc, mids, 8000);
    state.medoozeWhep = client;
    return { connection: pc.connectionState, stats, mids };
  },
  async medoozeWhepStop() {
    await state.medoozeWhep.stop();
  },
  // Eyevinn's player (WHEP adapter): video + audio receive-only, the Authorization
  // header value given whole. The audio section gets the conversation mixed.
  async eyevinnPlayer(url, token) {
    const before = peers.length;
    const player = new WebRTCPlayer({ video: document.getElementById("player"), type: "whep", iceServers: [] });
    await player.load(new URL(url), "Bearer " + token);
    await until(() => peers.length > before && peers[peers.length - 1].connectionState === "connected", 10000, "connected");
    const pc = peers[peers.length - 1];
    const audio = pc.getTransceivers().filter((t) => t.receiver.track.kind === "audio").map((t) => t.mid);
    const stats = await heard(pc, audio, 8000);
    state.eyevinnPlayer = player;
    const remote = pc.remoteDescription.sdp;
    return { connection: pc.connectionState, stats, mids: audio, videoRejected: /m=video 0 /.test(remote) };
  },
  async eyevinnPlayerStop() {
    await state.eyevinnPlayer.unload();
  },
  // What a page sees of an error answer from another origin.
  async rawError(url, token) {
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token },
        body: "v=0\r\n",
      });
      return { status: r.status, body: await r.json() };
    } catch (e) {
      return { error: String(e) };
    }
  },
};
