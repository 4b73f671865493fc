// The page's entry point: who is signed in, and which view the address asks for.
//   #/               my projects (or log in / sign up)
//   #/project/<id>   one project

import { graphql, hooks, session } from "./api.js";
import { authView } from "./auth-view.js";
import { LOG_OUT, ME } from "./documents.js";
import { h } from "./dom.js";
import { projectView } from "./project-view.js";
import { projectsView } from "./projects-view.js";

const main = document.getElementById("main");
const account = document.getElementById("account");
let me = null;
let current = null; // the view on screen, if it has something to close (a socket)
let turns = 0; // a newer call to show() wins over one still loading

hooks.unauthenticated = () => {
  session.token = null;
  me = null;
  show();
};

async function show() {
  const turn = ++turns;
  current?.close?.();
  current = null;
  try {
    if (session.token && !me) me = (await graphql(ME)).me;
    if (!me) session.token = null;
    renderAccount();
    const view = await viewFor(location.hash);
    if (turn !== turns) return view.close?.();
    if (view.close) current = view;
    main.replaceChildren(view.element ?? view);
  } catch (error) {
    if (turn !== turns || error.code === "UNAUTHENTICATED") return; // already moved on
    main.replaceChildren(
      h("h1", { tabindex: "-1" }, "Something went wrong"),
      h("p", { class: "error" }, error.message),
      h("p", {}, h("a", { href: "#/" }, "Back to my projects")),
    );
  }
  // For keyboard and screen-reader users, each view starts at its heading.
  (main.querySelector("h1") ?? main).focus();
}

function viewFor(hash) {
  if (!me) return authView(() => show());
  const project = /^#\/project\/(.+)$/.exec(hash);
  if (project) return projectView(decodeURIComponent(project[1]), me);
  return projectsView();
}

function renderAccount() {
  if (!me) return account.replaceChildren();
  const logOut = h("button", { type: "button" }, "Log out");
  logOut.addEventListener("click", async () => {
    await graphql(LOG_OUT).catch(() => null); // signed out here whatever the server says
    hooks.unauthenticated();
  });
  account.replaceChildren(h("span", {}, `${me.name} (${me.role.toLowerCase()})`), logOut);
}

window.addEventListener("hashchange", show);
show();
