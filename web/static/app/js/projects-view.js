// The viewer's projects (every project, for an admin), newest first.

import { graphql } from "./api.js";
import { PROJECTS } from "./documents.js";
import { formatDate, h } from "./dom.js";

export async function projectsView() {
  const { projects } = await graphql(PROJECTS);
  const items = projects.edges.map(({ node }) =>
    h(
      "li",
      { class: "card" },
      h("a", { href: `#/project/${encodeURIComponent(node.id)}` }, node.title),
      h(
        "p",
        {},
        `${node.client.name} with ${node.freelancer.name} · due ${formatDate(node.completionDate)}`,
      ),
      h(
        "p",
        {},
        node.milestonesUnlocked
          ? `${node.milestoneProgress.completed} of ${node.milestoneProgress.total} milestones done`
          : "Milestones not unlocked yet",
      ),
    ),
  );
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "My projects"),
    items.length ? h("ul", { class: "cards" }, items) : h("p", {}, "No projects yet."),
  );
}
