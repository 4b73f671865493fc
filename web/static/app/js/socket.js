// The page's WebSocket: the graphql-ws client (../vendor/graphql-ws/, the library most
// JavaScript clients speak graphql-transport-ws with), set up for a page that must stay live:
//
// - connection_init carries the token, as the Authorization header of the HTTP requests;
// - after a drop it tries again for ever (graphql-ws's default gives up after 5 tries),
//   waiting a jittered delay doubling from 0.5 s to 30 s, or less when the browser says it
//   is back online;
// - it stops on the closes that trying again would not fix (FINAL_CLOSES);
// - it pings every 15 s and drops a connection that does not answer within 5 s (a laptop
//   woken from sleep, a proxy that dropped it silently) rather than wait for TCP to notice.
//
// Resuming is the subscriber's part: graphql-ws sends a subscription's payload again on each
// new connection, serialised afresh, so a payload whose `variables` is a getter subscribes
// with the values of that moment (project-view.js: `after` the last message shown).

import { createClient } from "../vendor/graphql-ws/client.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
const PING_EVERY_MS = 15000;
const PONG_WITHIN_MS = 5000;
// 4403 the token is refused (logged out, expired), 4400 a message the server could not
// use, 4406 protocol not spoken. graphql-ws itself stops on the last two and on the
// server's internal errors (4500, 1011), and retries 4403 unless told otherwise.
export const FINAL_CLOSES = new Set([4400, 4403, 4406]);

/**
 * A graphql-ws client signed in with `token`. onStatus(state, detail): "connecting",
 * "live" (detail: true when back after a drop) or "reconnecting" (detail: ms until the
 * next try). Returns {client, retryNow()}; retryNow ends the wait before the next try.
 * A subscription the client gave up on gets error(event): the close event, or the error.
 */
export function liveClient(url, token, onStatus) {
  let wake = null;
  let pongTimer;
  const client = createClient({
    url,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    // Anything else is worth another try: a drop, and a connection that never opened (a
    // browser reports that as an error event, which graphql-ws retries only if told).
    shouldRetry: (failure) => !FINAL_CLOSES.has(failure?.code),
    retryWait: (retries) =>
      new Promise((resolve) => {
        // Jitter spreads the reconnections of many pages after a server restart.
        const base = BACKOFF_MS[Math.min(retries, BACKOFF_MS.length - 1)];
        const delay = Math.round(base * (0.5 + Math.random() / 2));
        const timer = setTimeout(resolve, delay);
        wake = () => (clearTimeout(timer), resolve());
        onStatus("reconnecting", delay);
      }).finally(() => (wake = null)),
    keepAlive: PING_EVERY_MS,
    on: {
      connecting: () => onStatus("connecting"),
      connected: (socket, payload, wasRetry) => onStatus("live", wasRetry),
      ping(received) {
        // Our ping went out: no pong in time, and terminate() drops the socket at once (as
        // 4499, which is then retried like any drop).
        if (!received) pongTimer = setTimeout(() => client.terminate(), PONG_WITHIN_MS);
      },
      pong(received) {
        if (received) clearTimeout(pongTimer);
      },
      closed: () => clearTimeout(pongTimer),
    },
  });
  return { client, retryNow: () => wake?.() };
}
