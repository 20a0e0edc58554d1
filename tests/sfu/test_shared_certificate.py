"""Every peer connection of a node uses one DTLS certificate (and one OpenSSL context)."""

from __future__ import annotations

import asyncio

from aiortc import RTCConfiguration, RTCPeerConnection

from edgevoice.sfu.peer import MediaConfig, SharedCertificate


def _connected(pc: RTCPeerConnection) -> asyncio.Future[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @pc.on("connectionstatechange")
    def _state() -> None:
        if pc.connectionState == "connected" and not done.done():
            done.set_result(None)
        elif pc.connectionState == "failed" and not done.done():
            done.set_exception(AssertionError("DTLS/ICE failed"))

    return done


def _fingerprint(sdp: str) -> str:
    return next(line for line in sdp.splitlines() if line.startswith("a=fingerprint:sha-256"))


async def test_peers_share_the_certificate_and_still_connect() -> None:
    config = MediaConfig()
    servers = [config.new_peer(), config.new_peer()]
    clients = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in servers]
    connected = [_connected(pc) for pc in (*servers, *clients)]
    try:
        answers = []
        for server, client in zip(servers, clients, strict=True):
            client.addTransceiver("audio", direction="sendrecv")
            await client.setLocalDescription(await client.createOffer())
            await server.setRemoteDescription(client.localDescription)
            await server.setLocalDescription(await server.createAnswer())
            answers.append(server.localDescription.sdp)
            await client.setRemoteDescription(server.localDescription)
        assert _fingerprint(answers[0]) == _fingerprint(answers[1])
        assert SharedCertificate.get().getFingerprints()[0].value in _fingerprint(answers[0])
        async with asyncio.timeout(10):
            await asyncio.gather(*connected)
        # a client's own peer connection still gets its own certificate
        assert _fingerprint(clients[0].localDescription.sdp) != _fingerprint(answers[0])
    finally:
        for pc in (*servers, *clients):
            await pc.close()
