"""``edgevoice probe``: a synthetic caller that measures what a real caller gets.

Against each target (a signalling or ``serve`` base URL) it runs one full session with
the echo model and reports setup time, first-hop RTT, the echo round trip, the
node->model link RTT and where the session landed (:mod:`.session`); thresholds and the
per-region baseline rule are pure functions (:mod:`.verdict`, :mod:`.baseline`).
"""
