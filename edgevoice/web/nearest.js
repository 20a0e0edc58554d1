// Where to place a call: time each region's ping URL from this browser (client_rtt_ms).
//
// GET /v1/regions lists the regions with live nodes and a ping URL on one of them (any
// origin may read it). Each URL is fetched once to open the connection, then `tries`
// more times; a region's RTT is the fastest of those. Regions that do not answer within
// `timeoutMs` are left out (placement then ranks them last).

export async function measureRegions(base = "", { tries = 3, timeoutMs = 2500 } = {}) {
  const listed = await fetch(`${base}/v1/regions`, { cache: "no-store" });
  if (!listed.ok) return {};
  const { regions = [] } = await listed.json();
  const timed = await Promise.all(
    regions.map(async ({ region, ping_url: url }) => {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      let best = Infinity;
      try {
        for (let i = 0; i <= tries; i++) {
          const started = performance.now();
          const response = await fetch(url, { cache: "no-store", signal: abort.signal });
          const ms = performance.now() - started;
          if (i > 0 && response.ok) best = Math.min(best, ms); // the first opened the connection
        }
      } catch {
        /* timed out or refused: keep what was measured */
      } finally {
        clearTimeout(timer);
      }
      return [region, Number.isFinite(best) ? Math.round(best * 10) / 10 : null];
    }),
  );
  return Object.fromEntries(timed.filter(([, ms]) => ms !== null));
}
