// Log in, or sign up as a client or a freelancer (admins are made by the operator).

import { graphql, session } from "./api.js";
import { LOG_IN, SIGN_UP } from "./documents.js";
import { field, form, h, showErrors } from "./dom.js";

export function authView(onSignedIn) {
  const submitTo = (document, name) => async (data, element) => {
    const input = Object.fromEntries(data);
    const payload = (await graphql(document, { input }))[name];
    if (payload.errors.length) return showErrors(element, payload.errors);
    session.token = payload.token;
    onSignedIn(payload.user);
  };

  const logIn = form(
    submitTo(LOG_IN, "logIn"),
    field("E-mail", "email", h("input", { type: "email", autocomplete: "username", required: true })),
    field(
      "Password",
      "password",
      h("input", { type: "password", autocomplete: "current-password", required: true }),
    ),
    h("button", { type: "submit" }, "Log in"),
  );

  const role = h(
    "select",
    {},
    h("option", { value: "CLIENT" }, "Client: I hire"),
    h("option", { value: "FREELANCER" }, "Freelancer: I deliver"),
  );
  const signUp = form(
    submitTo(SIGN_UP, "signUp"),
    field("Name", "name", h("input", { type: "text", autocomplete: "name", required: true })),
    field("E-mail", "email", h("input", { type: "email", autocomplete: "email", required: true })),
    field(
      "Password (at least 8 characters)",
      "password",
      h("input", { type: "password", autocomplete: "new-password", required: true }),
    ),
    field("I am a", "role", role),
    h("button", { type: "submit" }, "Sign up"),
  );

  return h(
    "div",
    { class: "auth" },
    h("h1", { tabindex: "-1" }, "Welcome"),
    h("section", { "aria-labelledby": "log-in" }, h("h2", { id: "log-in" }, "Log in"), logIn),
    h("section", { "aria-labelledby": "sign-up" }, h("h2", { id: "sign-up" }, "Sign up"), signUp),
  );
}
