"""What the soak run sends and how often (bench/soak.py's docstring says why each rate is
what it is), and how long it waits for what."""

from __future__ import annotations

RSS_EVERY = 10.0  # seconds between RSS samples
WARM_UP = 60.0  # the RSS sample growth is measured from
RSS_GROWTH_LIMIT = 10.0  # percent
READ_EVERY = 1.0  # per project: project { milestones chat(last: 20) }
PROJECTS_EVERY = 0.5  # projects(first: 20), one stream for the whole run
CHAT_EVERY = 5.0  # per project, client and freelancer in turn
MILESTONE_EVERY = 6.0  # per project, by its freelancer
MILESTONES_MIN, MILESTONES_MAX = 8, 40
EXTRA_LOG_INS = 2  # per project, alternately the client and the freelancer
SETTLE_TIMEOUT = 30.0  # for the last events, and for the e-mails, after the load stops

SUBSCRIPTION = """subscription($id: ID!) { chatEvents(projectId: $id) {
  id kind body createdAt actor { id name } milestone { id title } changes { field from to } } }"""
READ_PROJECT = """query($id: ID!) { project(id: $id) {
  id title milestoneProgress { total completed }
  milestones { id title dueDate completed overdue }
  chat(last: 20) { edges { cursor node { id kind body createdAt actor { name } } } } } }"""
READ_PROJECTS = """query { projects(first: 20) { totalCount
  edges { node { id title milestonesUnlocked milestoneProgress { total completed } } } } }"""
CHAT_PAGE = """query($id: ID!, $after: String) { project(id: $id) {
  chat(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""
SEND_CHAT = """mutation($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code field message } message { id } } }"""
ADD_MILESTONE = """mutation($input: AddMilestoneInput!) {
  addMilestone(input: $input) { errors { code field message }
    milestone { id completed } project { milestoneProgress { total completed } } } }"""
EDIT_MILESTONE = """mutation($input: EditMilestoneInput!) {
  editMilestone(input: $input) { errors { code field message }
    milestone { id title dueDate } } }"""
SET_COMPLETED = """mutation($input: SetMilestoneCompletedInput!) {
  setMilestoneCompleted(input: $input) { errors { code field message }
    milestone { id completed completedAt } } }"""
DELETE_MILESTONE = """mutation($input: DeleteMilestoneInput!) {
  deleteMilestone(input: $input) { errors { code field message }
    deletedMilestoneId project { milestoneProgress { total completed } } } }"""

# Filler for chat bodies of varying length.
WORDS = (
    "pipeline audit schema churn model feature store backfill dashboard metric cohort "
    "forecast retrain drift label sample notebook review deploy latency budget"
).split()
