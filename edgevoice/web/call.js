// One voice call: demo session, microphone, peer connection, WHIP offer/answer, teardown.

const GATHER_TIMEOUT_MS = 2500;

/** An HTTP error carrying the problem+json `detail` when the server sent one. */
export class CallError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "CallError";
    this.status = status;
  }
}

async function problemDetail(response, fallback) {
  let detail = "";
  try {
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) {
      const body = await response.json();
      detail = body.detail || body.title || "";
      if (Array.isArray(detail)) detail = detail.map((d) => d.msg || String(d)).join("; ");
    } else {
      detail = (await response.text()).slice(0, 300);
    }
  } catch {
    /* no readable body: keep the fallback */
  }
  return new CallError(detail || `${fallback} (HTTP ${response.status})`, response.status);
}

function waitForGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class Call {
  /**
   * @param {object} hooks  onState(state, detail), onEvent(obj), onTrack(stream),
   *                        onLocalStream(stream)
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.pc = null;
    this.channel = null;
    this.mic = null;
    this.session = null;
    this.resource = null;
    this.closed = false;
  }

  _state(state, detail = "") {
    if (!this.closed || state === "closed") this.hooks.onState(state, detail);
  }

  async start(model, placement = {}) {
    this._state("starting", "creating a session…");
    const body = { ...(model ? { model } : {}), ...placement };
    const created = await fetch("/v1/demo/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!created.ok) throw await problemDetail(created, "could not create a session");
    this.session = await created.json();
    if (this.closed) return;

    this._state("starting", "asking for the microphone…");
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: false,
      });
    } catch (err) {
      throw new CallError(`microphone unavailable: ${err.message || err.name}`);
    }
    if (this.closed) return this._releaseMic();
    this.hooks.onLocalStream(this.mic);

    const iceServers = (this.session.ice_servers || []).map((s) => ({
      urls: s.urls,
      ...(s.username ? { username: s.username } : {}),
      ...(s.credential ? { credential: s.credential } : {}),
    }));
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addTransceiver(this.mic.getAudioTracks()[0], {
      direction: "sendrecv",
      streams: [this.mic],
    });
    this.channel = pc.createDataChannel("events");
    this.channel.onmessage = (msg) => this._message(msg.data);
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      this.hooks.onTrack(stream);
    };
    pc.onconnectionstatechange = () => this._connection(pc.connectionState);

    this._state("connecting", "gathering network candidates…");
    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc, GATHER_TIMEOUT_MS);
    if (this.closed) return;

    this._state("connecting", "sending the offer…");
    const whipUrl = new URL(this.session.whip_url, location.href);
    const answered = await fetch(whipUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/sdp",
        Authorization: `Bearer ${this.session.client_secret.value}`,
      },
      body: pc.localDescription.sdp,
    });
    if (!answered.ok) throw await problemDetail(answered, "the offer was refused");
    const where = answered.headers.get("Location");
    if (where) this.resource = new URL(where, whipUrl).href;
    const sdp = await answered.text();
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp });
    this._state("connecting", "connecting media…");
  }

  _message(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      event = { type: "unparsed", text: String(data).slice(0, 200) };
    }
    this.hooks.onEvent(event);
    if (event.type === "session.closing") this.stop(false, event.reason || "the server ended the call");
  }

  _connection(state) {
    if (state === "connected") this._state("connected", "live");
    else if (state === "disconnected") this._state("connecting", "connection interrupted, retrying…");
    else if (state === "failed") this.stop(true, "the media connection failed");
  }

  _releaseMic() {
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    this.mic = null;
  }

  /** End the call: DELETE the WHIP resource, close the peer connection, stop the mic. */
  async stop(sendDelete = true, reason = "call ended") {
    if (this.closed) return;
    this.closed = true;
    this.hooks.onState("stopping", "hanging up…");
    const resource = this.resource;
    const secret = this.session?.client_secret?.value;
    if (this.channel) this.channel.onmessage = null;
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.ontrack = null;
      for (const t of this.pc.getTransceivers()) t.sender?.track?.stop();
      this.pc.close();
    }
    this._releaseMic();
    if (sendDelete && resource && secret) {
      try {
        const gone = await fetch(resource, {
          method: "DELETE",
          keepalive: true, // lets the hang-up leave even when the page is closing
          headers: { Authorization: `Bearer ${secret}` },
        });
        if (!gone.ok && gone.status !== 404) {
          const err = await problemDetail(gone, "hang-up was refused");
          reason = `${reason} (server: ${err.message})`;
        }
      } catch (err) {
        reason = `${reason} (hang-up request failed: ${err.message})`;
      }
    }
    this.hooks.onState("closed", reason);
  }
}
