# syntax=docker/dockerfile:1
#
# edgevoice: by default `serve` (signalling on HTTP 8080, SFU on UDP 40000-40099 and the
# bridge in one process, with the offline local model); the same image runs the cluster's
# process kinds: `docker run edgevoice node --region eu ...`, `... signalling ...`
# (see deploy/compose.yaml and docs/deploy.md). Build and run:
#
#   docker build -t edgevoice .
#   docker run --rm -p 8080:8080 -p 40000-40099:40000-40099/udp \
#     -e EDGEVOICE_PUBLIC_IP=<address clients reach> -e EDGEVOICE_API_KEY=<key> edgevoice
#
# Every `edgevoice serve` flag is also an EDGEVOICE_* variable (EDGEVOICE_REDIS_URL,
# EDGEVOICE_ICE_SERVERS, OPENAI_API_KEY, ...). Without EDGEVOICE_PUBLIC_IP the SDP
# answers carry the container's own addresses, which only work with host networking.
# Without EDGEVOICE_API_KEY a key is generated at start and logged.

# ---- build the edgevoice wheel (the source tree stays out of the final image)
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---- runtime
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The wheels of aiortc/av/pylibsrtp/onnxruntime/... bundle their native libraries
# (FFmpeg, libvpx, libsrtp, ...). The bridge loads the system libopus via ctypes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopus0 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /wheels /tmp/wheels
RUN pip install "$(ls /tmp/wheels/edgevoice-*.whl)[local,fast]" \
 && rm -rf /tmp/wheels

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/edgevoice \
      --shell /usr/sbin/nologin edgevoice
USER edgevoice
WORKDIR /home/edgevoice

EXPOSE 8080/tcp
EXPOSE 40000-40099/udp

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]

ENTRYPOINT ["edgevoice"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--rtc-ports", "40000-40099"]
