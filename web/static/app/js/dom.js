// Small DOM helpers. Text from the API is always set as text, never parsed as HTML, so a
// milestone titled "<img onerror=…>" stays a title.

/** h("button", {type: "submit", onclick: f}, "Save") builds an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== false));
  return element;
}

let fieldCount = 0;

/**
 * A labelled form control with a place for its error right under it. `name` is the
 * input field the API names in `UserError.field`, e.g. "title".
 */
export function field(label, name, control = h("input", { type: "text" })) {
  const id = `f${++fieldCount}-${name}`;
  control.id = id;
  control.name = name;
  control.setAttribute("aria-describedby", `${id}-error`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    h("p", { class: "error", id: `${id}-error`, "data-error-for": name }),
  );
}

/** A form with its own error line for errors not about one field. */
export function form(onsubmit, ...children) {
  const element = h("form", { novalidate: true }, ...children);
  element.prepend(h("p", { class: "error", "data-error-for": "", role: "alert" }));
  let busy = false;
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    // One submit in flight: a double click, or Enter pressed twice, sends one request.
    if (busy) return;
    busy = true;
    clearErrors(element);
    const buttons = element.querySelectorAll("button");
    buttons.forEach((button) => (button.disabled = true));
    element.setAttribute("aria-busy", "true");
    try {
      await onsubmit(new FormData(element), element);
    } catch (error) {
      showErrors(element, [{ field: null, message: error.message }]);
    } finally {
      busy = false;
      element.removeAttribute("aria-busy");
      buttons.forEach((button) => (button.disabled = false));
    }
  });
  return element;
}

export function clearErrors(container) {
  for (const line of container.querySelectorAll("[data-error-for]")) line.textContent = "";
  for (const control of container.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
  }
}

/**
 * Shows a payload's `errors` (each {field, message}) next to the fields they name, and
 * the rest on the form's own line; focus goes to the first field in error.
 */
export function showErrors(container, errors) {
  let first = null;
  for (const error of errors) {
    // UserError.field is a path such as ["title"]; the last part names the input.
    const name = error.field?.at(-1) ?? "";
    const line =
      container.querySelector(`[data-error-for="${CSS.escape(name)}"]`) ??
      container.querySelector('[data-error-for=""]');
    line.textContent = line.textContent ? `${line.textContent} ${error.message}` : error.message;
    const control = name && container.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      first ??= control;
    }
  }
  (first ?? container.querySelector('[data-error-for=""]'))?.focus?.();
}

/** "2027-06-30" as the reader's locale writes that calendar day. */
export function formatDate(isoDate) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  return date.toLocaleDateString(undefined, { timeZone: "UTC", dateStyle: "medium" });
}

export function formatTime(isoDateTime) {
  return new Date(isoDateTime).toLocaleString(undefined, {
    dateStyle: "short",
    timeStyle: "short",
  });
}

/**
 * A moment as the clock reads in `timeZone` (the project's, so that it matches the e-mails
 * about it), naming the zone; the browser's own zone if it does not know that one.
 */
export function formatMoment(isoDateTime, timeZone) {
  const options = { dateStyle: "medium", timeStyle: "short" };
  try {
    const local = new Date(isoDateTime).toLocaleString(undefined, { ...options, timeZone });
    return timeZone ? `${local} (${timeZone})` : local;
  } catch {
    return new Date(isoDateTime).toLocaleString(undefined, options);
  }
}

/** Today's date in UTC, as the API judges "in the past". */
export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}
