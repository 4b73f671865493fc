// A project's milestones: progress, the schedule warnings, the list in due-date order
// (the API's order), tick boxes and edit/delete for the freelancer, the add form, and the
// client's word on completed ones (acceptance-view.js).

import {
  autoAcceptNote,
  changeRequestList,
  clientDecisions,
  stateText,
} from "./acceptance-view.js";
import { graphql } from "./api.js";
import {
  ADD_MILESTONE,
  DELETE_MILESTONE,
  EDIT_MILESTONE,
  SET_MILESTONE_COMPLETED,
} from "./documents.js";
import { field, form, formatDate, h, showErrors, todayUtc } from "./dom.js";

/**
 * The milestones section. `changed()` asks the project view to read the project again;
 * `me` is the signed-in user (the project's client decides on completed milestones).
 * Returns {element, render(project)}; render keeps open edit and reason forms and the add
 * form as they are, so a live update never loses what the user is typing.
 */
export function milestonesSection(changed, me) {
  const editing = new Map(); // milestone id -> its open edit form
  let shown = null; // the project on screen, re-drawn when a form opens or closes
  const decisions = clientDecisions(changed, () => render(shown));
  const summary = h("div");
  const list = h("div");
  const addForm = milestoneForm("Add milestone", {}, async (input) => {
    const payload = (await graphql(ADD_MILESTONE, { input })).addMilestone;
    if (!payload.errors.length) changed();
    return payload;
  });
  // The add form is never moved or rebuilt by a live update: moving a focused input
  // would take the focus, and the text being typed, away from the user.
  addForm.hidden = true;
  let projectId = null;

  function render(project) {
    shown = project;
    projectId = project.id;
    decisions.prune(project.milestones);
    const { total, completed } = project.milestoneProgress;
    summary.replaceChildren(
      h(
        "p",
        { class: "progress" },
        h("progress", { max: total || 1, value: completed, "aria-label": "Progress" }),
        ` ${completed} of ${total} done`,
      ),
    );
    if (project.scheduleWarnings.length) {
      summary.append(
        h(
          "ul",
          { class: "warnings", "aria-label": "Schedule warnings" },
          project.scheduleWarnings.map((w) => h("li", { "data-code": w.code }, w.message)),
        ),
      );
    }
    keepingFocus(() =>
      list.replaceChildren(
        project.milestones.length
          ? h("ol", { class: "milestones" }, project.milestones.map((m) => item(m, project)))
          : h("p", {}, project.milestonesUnlocked ? "No milestones yet." : "Milestones are locked."),
      ),
    );
    addForm.hidden = !project.viewerCanEditMilestones;
  }

  /** Re-draws the list, leaving the keyboard focus (and a text selection) where it was. */
  function keepingFocus(redraw) {
    const active = document.activeElement;
    const key = active?.dataset?.focusKey;
    const { selectionStart: start, selectionEnd: end } = active ?? {};
    redraw();
    if (active?.isConnected && document.activeElement !== active) {
      active.focus(); // an open edit form, moved into the new list
      if (typeof start === "number") active.setSelectionRange(start, end);
    } else if (key) {
      list.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus(); // a new tick box
    }
  }

  function item(milestone, project) {
    const open = editing.get(milestone.id);
    if (open) {
      const heading = h("h3", {}, `Edit “${milestone.title}”`);
      return h("li", { class: "milestone", "data-id": milestone.id }, heading, open);
    }
    const error = h("p", { class: "error", role: "alert" });
    // ACCEPTED is final: no tick box, no edit or delete, for anyone.
    const accepted = milestone.state === "ACCEPTED";
    const canEdit = project.viewerCanEditMilestones && !accepted;
    const viewerIsClient = project.client.id === me.id;
    const title = h("span", { class: "title" }, milestone.title);
    const mark = h("span", { class: "accepted-mark", "aria-hidden": "true" }, "✓");
    const heading = accepted
      ? h("p", { class: "tick" }, mark, title)
      : h("label", { class: "tick" }, tickBox(milestone, canEdit, error), title);
    const actions = canEdit
      ? h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => edit(milestone, project) }, "Edit"),
          h("button", { type: "button", onclick: (e) => confirmDelete(e, milestone) }, "Delete"),
        )
      : null;
    const look = milestone.completed ? "done" : milestone.overdue ? "overdue" : "open";
    return h(
      "li",
      { class: `milestone ${look}`, "data-id": milestone.id, "data-state": milestone.state },
      heading,
      h(
        "p",
        { class: "meta" },
        h("time", { datetime: milestone.dueDate }, formatDate(milestone.dueDate)),
        " · ",
        h("span", { class: "state" }, stateText(milestone, project.timeZone)),
      ),
      autoAcceptNote(milestone, project.timeZone, viewerIsClient),
      milestone.description ? h("p", { class: "description" }, milestone.description) : null,
      changeRequestList(milestone),
      viewerIsClient && milestone.state === "COMPLETED" ? decisions.controls(milestone) : null,
      actions,
      error,
    );
  }

  function tickBox(milestone, canEdit, error) {
    const tick = h("input", {
      type: "checkbox",
      checked: milestone.completed,
      disabled: !canEdit,
      "data-focus-key": `tick:${milestone.id}`,
    });
    tick.addEventListener("change", async () => {
      error.textContent = "";
      const input = { id: milestone.id, completed: tick.checked };
      const payload = await run(error, SET_MILESTONE_COMPLETED, input, "setMilestoneCompleted");
      if (!payload) tick.checked = !tick.checked;
    });
    return tick;
  }

  /** Runs a milestone mutation; shows its errors in `line`; the payload on success. */
  async function run(line, document, input, name) {
    try {
      const payload = (await graphql(document, { input }))[name];
      if (payload.errors.length) {
        line.textContent = payload.errors.map((e) => e.message).join(" ");
        return null;
      }
      changed();
      return payload;
    } catch (error) {
      line.textContent = error.message;
      return null;
    }
  }

  function edit(milestone, project) {
    const close = () => {
      editing.delete(milestone.id);
      render(project);
      list.querySelector(`[data-id="${CSS.escape(milestone.id)}"] button`)?.focus();
    };
    const editor = milestoneForm("Save", milestone, async (input) => {
      // Only what changed is sent: omitted fields keep their value, and a past due date
      // the milestone already has is not "moved into the past".
      const changes = { id: milestone.id };
      for (const key of ["title", "description", "dueDate"]) {
        if (input[key] !== milestone[key]) changes[key] = input[key];
      }
      const payload = (await graphql(EDIT_MILESTONE, { input: changes })).editMilestone;
      if (!payload.errors.length) close();
      return payload;
    }, close);
    editing.set(milestone.id, editor);
    render(project);
    editor.querySelector("input")?.focus();
  }

  function confirmDelete(event, milestone) {
    // Asked in place, not with confirm(): keyboard and screen readers stay in the page.
    const actions = event.currentTarget.parentElement;
    const error = actions.nextElementSibling;
    const keep = h("button", { type: "button" }, "Keep it");
    const yes = h("button", { type: "button", class: "danger" }, `Delete “${milestone.title}”`);
    const previous = [...actions.childNodes];
    keep.addEventListener("click", () => {
      actions.replaceChildren(...previous);
      previous[1].focus();
    });
    yes.addEventListener("click", () =>
      run(error, DELETE_MILESTONE, { id: milestone.id }, "deleteMilestone"),
    );
    actions.replaceChildren(yes, keep);
    keep.focus();
  }

  const element = h(
    "section",
    { class: "panel", "aria-labelledby": "milestones-heading" },
    h("h2", { id: "milestones-heading" }, "Milestones"),
    summary,
    list,
    addForm,
  );
  return { element, render };

  /** The add form (no milestone) or an edit form; `save(input)` returns the payload. */
  function milestoneForm(label, milestone, save, cancel = null) {
    const element = form(
      async (data, formElement) => {
        const input = Object.fromEntries(data);
        if (!milestone.id) input.projectId = projectId;
        const payload = await save(input);
        if (payload.errors.length) showErrors(formElement, payload.errors);
        else if (!milestone.id) formElement.reset();
      },
      field("Title", "title", h("input", { type: "text", value: milestone.title ?? "" })),
      field(
        "Due date",
        "dueDate",
        h("input", { type: "date", value: milestone.dueDate ?? "", min: todayUtc() }),
      ),
      field("Description", "description", h("textarea", { rows: 2 }, milestone.description ?? "")),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, label),
        cancel ? h("button", { type: "button", onclick: cancel }, "Cancel") : null,
      ),
    );
    return milestone.id ? element : h("div", { class: "add" }, h("h3", {}, "New milestone"), element);
  }
}
