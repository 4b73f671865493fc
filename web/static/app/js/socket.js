// A client for the graphql-transport-ws protocol, in full:
// https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
//
//   client                                server
//   connection_init {Authorization}  ->
//                                    <-   connection_ack
//   subscribe {id, query, variables} ->
//                                    <-   next {id, payload}     (each event)
//                                    <-   error {id, payload}    (refused, e.g. NOT_FOUND)
//   complete {id}                    ->   (we stop)   <- complete {id} (it ends)
//   ping                             <->  pong        (either side may ask)
//
// After a drop it reconnects with growing, jittered delays and subscribes again; each
// subscription computes its variables afresh, so a chat can resume `after` the last
// message it saw.

const PROTOCOL = "graphql-transport-ws";
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
// We ask for a pong this often; a connection that does not answer in time is dead even
// if no close ever arrives (a laptop put to sleep, a proxy that dropped it silently).
const PING_EVERY_MS = 15000;
const PONG_WITHIN_MS = 5000;
// Closes that reconnecting would not fix: 4400 a message the server could not use,
// 4403 the token is refused (logged out, expired), 4406 protocol not spoken.
const FINAL_CLOSES = new Set([4400, 4403, 4406]);

export class LiveSocket {
  #url;
  #token;
  #listeners;
  #subscriptions = new Map();
  #nextId = 1;
  #ws = null;
  #ready = false;
  #attempt = 0;
  #retryTimer = null;
  #pingTimer = null;
  #pongTimer = null;
  #closed = false;

  /**
   * onStatus(state, detail): "connecting", "live", "reconnecting" (detail: ms until the
   * next try) or "refused" (detail: the close event). onRefused(event) after a final close.
   */
  constructor(url, token, { onStatus = () => {}, onRefused = () => {} } = {}) {
    this.#url = url;
    this.#token = token;
    this.#listeners = { onStatus, onRefused };
    this.#connect();
  }

  /**
   * Starts a subscription. `variables()` is called at each (re)subscribe. Handlers:
   * next(payload), error(errors), complete(). Returns a function that stops it.
   */
  subscribe(query, variables, handlers) {
    const id = String(this.#nextId++);
    const subscription = { query, variables, handlers };
    this.#subscriptions.set(id, subscription);
    if (this.#ready) this.#sendSubscribe(id, subscription);
    return () => {
      if (this.#subscriptions.delete(id) && this.#ready) this.#send({ id, type: "complete" });
    };
  }

  /** Stops for good: no more reconnecting. */
  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#stopPinging();
    this.#ws?.close(1000, "Page closed");
  }

  /** Tries at once instead of waiting out the delay (e.g. when the browser is back online). */
  retryNow() {
    if (this.#retryTimer === null || this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#connect();
  }

  #connect() {
    this.#retryTimer = null;
    this.#listeners.onStatus("connecting");
    const ws = new WebSocket(this.#url, PROTOCOL);
    this.#ws = ws;
    ws.onopen = () =>
      this.#send({ type: "connection_init", payload: { Authorization: `Bearer ${this.#token}` } });
    ws.onmessage = (event) => this.#receive(JSON.parse(event.data));
    ws.onclose = (event) => this.#dropped(event);
  }

  #receive(message) {
    const subscription = this.#subscriptions.get(message.id);
    switch (message.type) {
      case "connection_ack":
        this.#ready = true;
        this.#attempt = 0;
        this.#listeners.onStatus("live");
        for (const [id, each] of this.#subscriptions) this.#sendSubscribe(id, each);
        this.#startPinging();
        break;
      case "ping":
        this.#send({ type: "pong" });
        break;
      case "pong":
        clearTimeout(this.#pongTimer);
        break;
      case "next":
        subscription?.handlers.next?.(message.payload);
        break;
      case "error":
        this.#subscriptions.delete(message.id);
        subscription?.handlers.error?.(message.payload);
        break;
      case "complete":
        this.#subscriptions.delete(message.id);
        subscription?.handlers.complete?.();
        break;
    }
  }

  #sendSubscribe(id, { query, variables }) {
    this.#send({ id, type: "subscribe", payload: { query, variables: variables() } });
  }

  #send(message) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  #dropped(event) {
    this.#ready = false;
    this.#ws = null;
    this.#stopPinging();
    if (this.#closed) return;
    if (FINAL_CLOSES.has(event.code)) {
      this.#listeners.onStatus("refused", event);
      this.#listeners.onRefused(event);
      return;
    }
    // Jitter spreads the reconnections of many pages after a server restart.
    const base = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.#attempt += 1;
    this.#listeners.onStatus("reconnecting", delay);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #startPinging() {
    this.#pingTimer = setInterval(() => {
      this.#send({ type: "ping" });
      this.#pongTimer = setTimeout(() => this.#abandon(), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  #stopPinging() {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }

  /** A connection that stopped answering: drop it now rather than wait for TCP to notice. */
  #abandon() {
    const ws = this.#ws;
    if (!ws) return;
    ws.onclose = null;
    ws.close();
    this.#dropped({ code: 1006 });
  }
}
