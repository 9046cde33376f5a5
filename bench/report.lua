-- wrk script: POST one network report per request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"type":"network","subtype":"intrusion","reporter":{"name":"Bench","email":"bench@example.org"},"description":"ssh brute force","incidents":[{"source_ip":"203.0.113.7","source_port":51234,"target":"198.51.100.20","target_port":22,"protocol":"tcp","timestamp":"2026-03-02T10:00:00+01:00","log":"sshd[811]: Failed password for root from 203.0.113.7 port 51234 ssh2"}]}]]

local codes = {}
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status))
end
