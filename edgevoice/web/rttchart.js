// A small SVG chart of one node's first-hop RTT p50 and p95 over time (no library).
// Samples are {t (Unix s), p50, p95} in ms; a null breaks the line (no calls then).

const SVG = "http://www.w3.org/2000/svg";
const W = 320;
const H = 84;
const PAD = 4;
const MIN_SPAN_S = 120;

function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function path(samples, key, x, y) {
  let d = "";
  let pen = false;
  for (const s of samples) {
    const v = s[key];
    if (v === null || v === undefined) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${x(s.t).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

// A "nice" ceiling for the y axis: 1, 2 or 5 times a power of ten, at least 1 ms.
function ceiling(max) {
  const top = Math.max(1, max * 1.15);
  const power = 10 ** Math.floor(Math.log10(top));
  for (const step of [1, 2, 5, 10]) if (step * power >= top) return step * power;
  return 10 * power;
}

// Returns {svg, top, since} ; `top` is the y axis ceiling in ms, `since` the first time.
export function rttChart(samples, now) {
  const points = samples.filter((s) => s.p50 !== null || s.p95 !== null);
  const first = samples.length ? samples[0].t : now;
  const since = Math.min(first, now - MIN_SPAN_S);
  const span = Math.max(1, now - since);
  const max = Math.max(0, ...points.map((s) => Math.max(s.p50 ?? 0, s.p95 ?? 0)));
  const top = ceiling(max);
  const x = (t) => PAD + ((t - since) / span) * (W - 2 * PAD);
  const y = (v) => H - PAD - (Math.min(v, top) / top) * (H - 2 * PAD);

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
    class: "rtt-chart", role: "img" });
  svg.setAttribute("aria-label", `first-hop RTT p50 and p95, up to ${top} ms`);
  for (const frac of [0.5, 1]) {
    const gy = y(top * frac);
    svg.append(el("line", { x1: PAD, x2: W - PAD, y1: gy, y2: gy, class: "grid" }));
  }
  svg.append(el("line", { x1: PAD, x2: W - PAD, y1: H - PAD, y2: H - PAD, class: "axis" }));
  const p95 = path(samples, "p95", x, y);
  const p50 = path(samples, "p50", x, y);
  if (p95) svg.append(el("path", { d: p95, class: "line p95" }));
  if (p50) svg.append(el("path", { d: p50, class: "line p50" }));
  for (const s of points) {
    if (s.p50 !== null) svg.append(el("circle", { cx: x(s.t), cy: y(s.p50), r: 1.8, class: "dot p50" }));
  }
  return { svg, top, since, points: points.length };
}
