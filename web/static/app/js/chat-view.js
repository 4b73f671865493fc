// The project chat: the last 50 messages, then every new one live, and a box to write.

import { graphql } from "./api.js";
import { SEND_CHAT_MESSAGE } from "./documents.js";
import { field, form, formatTime, h, showErrors } from "./dom.js";

const EVENT_LABELS = {
  MESSAGE: "",
  MILESTONES_UNLOCKED: "Unlocked",
  MILESTONE_ADDED: "Added",
  MILESTONE_EDITED: "Edited",
  MILESTONE_DELETED: "Deleted",
  MILESTONE_COMPLETED: "Completed",
  MILESTONE_REOPENED: "Reopened",
  MILESTONE_OVERDUE: "Overdue",
  MILESTONE_ACCEPTED: "Accepted",
  MILESTONE_CHANGES_REQUESTED: "Changes requested",
};

/** Returns {element, replace(messages), append(message), lastId}. */
export function chatSection(projectId) {
  const shown = new Set();
  let lastId = null;
  // aria-live: a screen reader reads each new message as it arrives.
  const list = h("ol", { class: "chat", "aria-live": "polite", "aria-label": "Chat messages" });

  function append(message) {
    // A resumed subscription may repeat nothing, but a page that re-read the chat while
    // events were on their way could: each message is shown once.
    if (shown.has(message.id)) return;
    shown.add(message.id);
    lastId = message.id;
    const label = EVENT_LABELS[message.kind] ?? message.kind;
    list.append(
      h(
        "li",
        { class: `chat-message ${message.kind === "MESSAGE" ? "message" : "event"}` },
        h(
          "p",
          { class: "meta" },
          h("strong", {}, message.actor?.name ?? "Milestones"),
          label ? h("span", { class: "kind" }, ` ${label}`) : null,
          " · ",
          h("time", { datetime: message.createdAt }, formatTime(message.createdAt)),
        ),
        h("p", { class: "body" }, message.body),
        message.changes.length
          ? h(
              "ul",
              { class: "changes" },
              message.changes.map((c) => h("li", {}, `${c.field}: ${c.from ?? "—"} → ${c.to ?? "—"}`)),
            )
          : null,
      ),
    );
    list.lastElementChild.scrollIntoView?.({ block: "nearest" });
  }

  function replace(messages) {
    shown.clear();
    lastId = null;
    list.replaceChildren();
    messages.forEach(append);
  }

  const write = form(
    async (data, element) => {
      const input = { projectId, body: data.get("body") };
      const payload = (await graphql(SEND_CHAT_MESSAGE, { input })).sendChatMessage;
      if (payload.errors.length) return showErrors(element, payload.errors);
      element.reset();
      element.querySelector("textarea").focus();
    },
    field("Message", "body", h("textarea", { rows: 2, required: true })),
    h("button", { type: "submit" }, "Send"),
  );
  // Enter sends, Shift+Enter makes a new line, as in most chats.
  write.querySelector("textarea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      write.requestSubmit();
    }
  });

  const element = h(
    "section",
    { class: "panel", "aria-labelledby": "chat-heading" },
    h("h2", { id: "chat-heading" }, "Chat"),
    list,
    write,
  );
  return {
    element,
    replace,
    append,
    get lastId() {
      return lastId;
    },
  };
}
