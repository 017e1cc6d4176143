// Fidelity check: Splunk's own Node HEC client (npm splunk-logging) sends
// events to the fluxhunt emulator. Run by lab/splunkemu's Go test, which then
// checks that the emulator stored exactly what this script reports it sent.
//
// Environment: HEC_URL (http://127.0.0.1:PORT), HEC_TOKEN, HEC_BAD_TOKEN.
// Output (stdout, one JSON object): {"sent":[{seq, time, event}], "answers":[...]}
"use strict";

const SplunkLogger = require("splunk-logging").Logger;

const url = process.env.HEC_URL;
const token = process.env.HEC_TOKEN;
const badToken = process.env.HEC_BAD_TOKEN;
if (!url || !token || !badToken) {
  console.error("hec_check.js: set HEC_URL, HEC_TOKEN and HEC_BAD_TOKEN");
  process.exit(2);
}

function send(logger, payload) {
  return new Promise((resolve) => {
    logger.send(payload, (err, resp, body) => {
      resolve({ err: err ? String(err.message || err) : null, status: resp ? resp.statusCode : 0, body: body });
    });
  });
}

function flush(logger) {
  return new Promise((resolve) => {
    logger.flush((err, resp, body) => {
      resolve({ err: err ? String(err.message || err) : null, status: resp ? resp.statusCode : 0, body: body });
    });
  });
}

function payload(seq) {
  return {
    message: { seq: seq, text: "fidelity h\u00e9llo \u2713 \"quoted\" <tag>", n: seq * 1.5, list: [1, "two", null] },
    severity: seq % 2 ? "warn" : "info",
    metadata: {
      time: 1764172800 + seq + 0.25,
      host: "node-client",
      source: "splunk-logging",
      sourcetype: "fidelity:node",
      index: "fluxhunt",
    },
  };
}

// The event text splunk-logging puts in each envelope (its default
// eventFormatter: {message, severity}).
function eventJSON(p) {
  return JSON.stringify({ message: p.message, severity: p.severity });
}

async function main() {
  const out = { sent: [], answers: [] };
  // One event per request (the default).
  const single = new SplunkLogger({ token: token, url: url, maxRetries: 0 });
  single.error = (err) => out.answers.push({ logger_error: String(err.message || err) });
  for (let seq = 0; seq < 3; seq++) {
    const p = payload(seq);
    out.answers.push(await send(single, p));
    out.sent.push({ seq: seq, time: p.metadata.time, event: eventJSON(p) });
  }
  // Batched: concatenated envelopes in one request, flushed by hand.
  const batched = new SplunkLogger({ token: token, url: url, maxBatchCount: 0, maxRetries: 0 });
  batched.error = (err) => out.answers.push({ logger_error: String(err.message || err) });
  for (let seq = 3; seq < 10; seq++) {
    const p = payload(seq);
    batched.send(p);
    out.sent.push({ seq: seq, time: p.metadata.time, event: eventJSON(p) });
  }
  out.answers.push(await flush(batched));
  // A wrong token: Splunk's answer body, nothing stored.
  const wrong = new SplunkLogger({ token: badToken, url: url, maxRetries: 0 });
  wrong.error = () => {};
  out.answers.push(await send(wrong, payload(99)));
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  console.error("hec_check.js:", e);
  process.exit(1);
});
