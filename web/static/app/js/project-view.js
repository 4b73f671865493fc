// One project: its milestones, the admin's buttons, and the chat, all kept live by the
// project's chatEvents subscription over graphql-transport-ws (socket.js).

import { ENDPOINT, graphql, hooks, session } from "./api.js";
import { chatSection } from "./chat-view.js";
import {
  CHAT,
  CHAT_EVENTS,
  PROJECT,
  RECORD_INITIAL_PAYMENT,
  UNLOCK_MILESTONES,
} from "./documents.js";
import { formatDate, h } from "./dom.js";
import { milestonesSection } from "./milestones-view.js";
import { FINAL_CLOSES, liveClient } from "./socket.js";

const SOCKET_URL = Object.assign(new URL(ENDPOINT), {
  protocol: location.protocol === "https:" ? "wss:" : "ws:",
}).href;

/** Builds the view; returns {element, close()} (close ends the subscription). */
export async function projectView(id, me) {
  const [{ project }, { project: withChat }] = await Promise.all([
    graphql(PROJECT, { id }),
    graphql(CHAT, { id }),
  ]);
  const heading = h("h1", { tabindex: "-1" });
  const summary = h("p", { class: "summary" });
  const status = h("p", { class: "live", role: "status" }, "Connecting…");
  const admin = h("section", { class: "panel admin", "aria-label": "Admin" });
  const milestones = milestonesSection(() => refresh(), me);
  const chat = chatSection(id);
  chat.replace(withChat.chat.edges.map((edge) => edge.node));

  function render(current) {
    heading.textContent = current.title;
    summary.textContent =
      `${current.client.name} (client) with ${current.freelancer.name} (freelancer)` +
      ` · completes on ${formatDate(current.completionDate)}`;
    if (me.role === "ADMIN") renderAdmin(admin, current, () => refresh());
    milestones.render(current);
  }

  // One read at a time, and one more if something changed meanwhile: the page always
  // ends on the newest state, however many events arrive together.
  let reading = null;
  let again = false;
  async function refresh() {
    if (reading) return void (again = true);
    do {
      again = false;
      reading = graphql(PROJECT, { id });
      try {
        render((await reading).project);
      } catch (error) {
        status.textContent = error.message;
      } finally {
        reading = null;
      }
    } while (again);
  }

  const { client, retryNow } = liveClient(SOCKET_URL, session.token, (state, detail) => {
    status.dataset.state = state;
    status.textContent = {
      connecting: "Connecting…",
      live: "Live",
      reconnecting: `Connection lost; reconnecting in ${Math.ceil(detail / 1000)} s…`,
    }[state];
    // Back after a drop: what has no chat event (a payment) may have changed too.
    if (state === "live" && detail) refresh();
  });
  window.addEventListener("online", retryNow);
  // graphql-ws keeps its socket while a subscription runs: ending ours closes it.
  let unsubscribe = () => {};
  let closed = false;
  subscribe();

  function subscribe() {
    if (closed) return;
    const payload = {
      query: CHAT_EVENTS,
      // Read at each (re)subscribe: after a drop the server replays from the last message shown.
      get variables() {
        return { projectId: id, after: chat.lastId };
      },
    };
    unsubscribe = client.subscribe(payload, {
      next({ data, errors }) {
        if (errors?.length) return void (status.textContent = errors[0].message);
        chat.append(data.chatEvents);
        if (data.chatEvents.kind !== "MESSAGE") refresh();
      },
      async error(failure) {
        if (!Array.isArray(failure)) return stopped(failure);
        // Too long away to replay (BAD_USER_INPUT): read the chat afresh and go on from there.
        if (failure[0]?.extensions?.code !== "BAD_USER_INPUT") {
          return void (status.textContent = failure[0]?.message ?? "Live updates stopped.");
        }
        const { project: fresh } = await graphql(CHAT, { id });
        chat.replace(fresh.chat.edges.map((edge) => edge.node));
        refresh();
        subscribe();
      },
      complete() {},
    });
  }

  // The client gave up: a refused token (logged out, expired) returns to the log-in form.
  function stopped(failure) {
    status.dataset.state = "stopped";
    if (FINAL_CLOSES.has(failure?.code)) {
      status.textContent = "Signed out.";
      hooks.unauthenticated();
    } else {
      status.textContent = "Live updates stopped; reload the page to try again.";
    }
  }

  render(project);
  const element = h(
    "div",
    { class: "project" },
    h("p", {}, h("a", { href: "#/" }, "← My projects")),
    heading,
    summary,
    status,
    me.role === "ADMIN" ? admin : null,
    h("div", { class: "columns" }, milestones.element, chat.element),
  );
  return {
    element,
    close() {
      window.removeEventListener("online", retryNow);
      closed = true;
      unsubscribe();
    },
  };
}

/** The admin's buttons: record the client's initial payment, then unlock the milestones. */
function renderAdmin(section, project, changed) {
  const error = h("p", { class: "error", role: "alert" });
  const button = (label, document, name) =>
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          error.textContent = "";
          try {
            const payload = (await graphql(document, { input: { projectId: project.id } }))[name];
            error.textContent = payload.errors.map((e) => e.message).join(" ");
          } catch (failure) {
            error.textContent = failure.message;
          }
          changed();
        },
      },
      label,
    );
  const paid = project.initialPaymentCompletedAt;
  section.replaceChildren(
    h("h2", {}, "Admin"),
    h(
      "p",
      {},
      !project.initialPaymentRequired
        ? "No initial payment required."
        : paid
          ? `Initial payment recorded ${formatDate(paid.slice(0, 10))}.`
          : "Initial payment not recorded.",
      " ",
      project.milestonesUnlocked ? "Milestones unlocked." : "Milestones locked.",
    ),
    h(
      "div",
      { class: "actions" },
      project.initialPaymentRequired && !paid
        ? button("Record initial payment", RECORD_INITIAL_PAYMENT, "recordInitialPayment")
        : null,
      project.milestonesUnlocked
        ? null
        : button("Unlock milestones", UNLOCK_MILESTONES, "unlockMilestones"),
    ),
    error,
  );
}
