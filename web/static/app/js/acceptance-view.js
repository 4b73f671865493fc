// The client's word on finished work. A ticked milestone is COMPLETED and waits for the
// client: "Accept" makes it ACCEPTED (final), "Request changes" sends it back to OPEN with
// a reason. Everyone sees the state, when it will be accepted automatically, and the
// reasons given so far.

import { graphql } from "./api.js";
import { ACCEPT_MILESTONE, REQUEST_MILESTONE_CHANGES } from "./documents.js";
import { field, form, formatMoment, formatTime, h, showErrors } from "./dom.js";

// RequestMilestoneChangesInput.reason: 1-2000 characters after trimming. Checked here
// first so that a blank or too long reason costs no request; the API checks it again.
export const REASON_MAX_LENGTH = 2000;

/** The state in words: "Open", "Overdue", "Completed, waiting for the client", "Accepted …". */
export function stateText(milestone, timeZone) {
  if (milestone.state === "ACCEPTED") {
    const by = milestone.acceptedBy ? `by ${milestone.acceptedBy.name}` : "automatically";
    return `Accepted ${by} on ${formatMoment(milestone.acceptedAt, timeZone)}`;
  }
  if (milestone.state === "COMPLETED") {
    const ticked = milestone.completedBy ? ` (ticked by ${milestone.completedBy.name})` : "";
    return `Completed, waiting for the client${ticked}`;
  }
  return milestone.overdue ? "Overdue" : "Open";
}

/** While COMPLETED: when the clock accepts it if the client says nothing (null if never). */
export function autoAcceptNote(milestone, timeZone, viewerIsClient) {
  if (milestone.state !== "COMPLETED" || !milestone.autoAcceptAt) return null;
  const when = h(
    "time",
    { datetime: milestone.autoAcceptAt },
    formatMoment(milestone.autoAcceptAt, timeZone),
  );
  const words = viewerIsClient
    ? ["If you do not answer, it is accepted automatically on ", when, "."]
    : ["Accepted automatically on ", when, " unless the client answers first."];
  return h("p", { class: "auto-accept" }, ...words);
}

/** The client's reasons for changes, newest first (the API's order), kept across rounds. */
export function changeRequestList(milestone) {
  if (!milestone.changeRequests?.length) return null;
  return h(
    "ul",
    { class: "change-requests", "aria-label": `Changes requested to “${milestone.title}”` },
    milestone.changeRequests.map((request) =>
      h(
        "li",
        {},
        h(
          "p",
          { class: "meta" },
          h("strong", {}, request.requestedBy.name),
          " asked for changes · ",
          h("time", { datetime: request.createdAt }, formatTime(request.createdAt)),
        ),
        h("p", { class: "reason" }, request.reason),
      ),
    ),
  );
}

/**
 * The client's "Accept" and "Request changes". `changed()` asks for a fresh read of the
 * project, `redraw()` re-draws the list. An open reason form is kept (with what is typed
 * in it) across live re-draws while its milestone is still COMPLETED.
 */
export function clientDecisions(changed, redraw) {
  const open = new Map(); // milestone id -> its open reason form
  // Milestones whose acceptance is on its way: a live re-draw meanwhile builds new buttons,
  // which must stay off too, so that one click sends one request.
  const accepting = new Set();

  function controls(milestone) {
    if (open.has(milestone.id)) return open.get(milestone.id);
    const error = h("p", { class: "error", role: "alert" });
    const busy = accepting.has(milestone.id);
    const button = (label, key) =>
      h(
        "button",
        { type: "button", disabled: busy, "data-focus-key": `${key}:${milestone.id}` },
        label,
      );
    const accept = button("Accept", "accept");
    const send = button("Request changes", "changes");
    accept.addEventListener("click", async () => {
      if (accepting.has(milestone.id)) return;
      accepting.add(milestone.id);
      accept.disabled = send.disabled = true;
      error.textContent = "";
      try {
        const input = { milestoneId: milestone.id };
        const payload = (await graphql(ACCEPT_MILESTONE, { input })).acceptMilestone;
        error.textContent = payload.errors.map((e) => e.message).join(" ");
        if (!payload.errors.length) changed();
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        accepting.delete(milestone.id);
        accept.disabled = send.disabled = false;
      }
    });
    send.addEventListener("click", () => {
      open.set(milestone.id, reasonForm(milestone));
      redraw();
      open.get(milestone.id)?.querySelector("textarea").focus();
    });
    return h("div", { class: "decision" }, h("div", { class: "actions" }, accept, send), error);
  }

  function reasonForm(milestone) {
    const close = () => {
      open.delete(milestone.id);
      redraw();
    };
    return form(
      async (data, element) => {
        const reason = data.get("reason").trim();
        const problem = reasonProblem(reason);
        if (problem) return showErrors(element, [{ field: ["reason"], message: problem }]);
        const input = { milestoneId: milestone.id, reason };
        const payload = (await graphql(REQUEST_MILESTONE_CHANGES, { input }))
          .requestMilestoneChanges;
        if (payload.errors.length) return showErrors(element, payload.errors);
        close();
        changed();
      },
      field("Reason", "reason", h("textarea", { rows: 3 })),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, "Send back"),
        h("button", { type: "button", onclick: close }, "Cancel"),
      ),
    );
  }

  /** Forgets the forms of milestones that are no longer COMPLETED (or no longer there). */
  function prune(milestones) {
    const waiting = new Set(milestones.filter((m) => m.state === "COMPLETED").map((m) => m.id));
    for (const id of open.keys()) if (!waiting.has(id)) open.delete(id);
  }

  return { controls, prune };
}

function reasonProblem(reason) {
  if (!reason) return "Say what should change.";
  // The API counts characters, not UTF-16 code units: an emoji is one.
  const length = [...reason].length;
  if (length > REASON_MAX_LENGTH) {
    return `At most ${REASON_MAX_LENGTH} characters; this is ${length}.`;
  }
  return null;
}
