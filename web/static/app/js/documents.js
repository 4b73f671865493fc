// Every GraphQL document the page sends, in one place (see the contract's schema.graphql).

const ERRORS = "errors { code field message }";

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { ${ERRORS} token user { id name role } }
}`;

export const LOG_IN = `mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { ${ERRORS} token user { id name role } }
}`;

export const LOG_OUT = `mutation LogOut { logOut }`;

export const ME = `query Me { me { id name role } }`;

export const PROJECTS = `query Projects {
  projects(first: 50) {
    edges { node {
      id title completionDate milestonesUnlocked
      client { name } freelancer { name }
      milestoneProgress { total completed }
    } }
  }
}`;

// What the project view shows, apart from the chat; read again after each milestone event.
export const PROJECT = `query Project($id: ID!) {
  project(id: $id) {
    id title description completionDate timeZone
    initialPaymentRequired initialPaymentCompletedAt milestonesUnlocked
    viewerCanEditMilestones
    client { id name } freelancer { id name }
    milestoneProgress { total completed }
    scheduleWarnings { code message }
    milestones {
      id title description dueDate completed overdue completedBy { name }
      state acceptedAt acceptedBy { name } autoAcceptAt
      changeRequests { reason createdAt requestedBy { name } }
    }
  }
}`;

const CHAT_MESSAGE = `fragment ChatMessageFields on ChatMessage {
  id kind body createdAt
  actor { id name }
  changes { field from to }
}`;

export const CHAT = `query Chat($id: ID!) {
  project(id: $id) { chat(last: 50) { edges { node { ...ChatMessageFields } } } }
}
${CHAT_MESSAGE}`;

// `after`: the last message this page saw; after a reconnect the server first replays
// what came since, so nothing is missed and nothing shown twice.
export const CHAT_EVENTS = `subscription ChatEvents($projectId: ID!, $after: ID) {
  chatEvents(projectId: $projectId, after: $after) { ...ChatMessageFields }
}
${CHAT_MESSAGE}`;

export const SEND_CHAT_MESSAGE = `mutation SendChatMessage($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { ${ERRORS} message { id } }
}`;

const MILESTONE_PAYLOAD = `${ERRORS} milestone { id }`;

export const ADD_MILESTONE = `mutation AddMilestone($input: AddMilestoneInput!) {
  addMilestone(input: $input) { ${MILESTONE_PAYLOAD} }
}`;

export const EDIT_MILESTONE = `mutation EditMilestone($input: EditMilestoneInput!) {
  editMilestone(input: $input) { ${MILESTONE_PAYLOAD} }
}`;

export const SET_MILESTONE_COMPLETED = `mutation SetMilestoneCompleted(
  $input: SetMilestoneCompletedInput!
) {
  setMilestoneCompleted(input: $input) { ${MILESTONE_PAYLOAD} }
}`;

// The client's word on a COMPLETED milestone: accepted (final), or sent back with a reason.
export const ACCEPT_MILESTONE = `mutation AcceptMilestone($input: AcceptMilestoneInput!) {
  acceptMilestone(input: $input) { ${MILESTONE_PAYLOAD} }
}`;

export const REQUEST_MILESTONE_CHANGES = `mutation RequestMilestoneChanges(
  $input: RequestMilestoneChangesInput!
) {
  requestMilestoneChanges(input: $input) { ${MILESTONE_PAYLOAD} }
}`;

export const DELETE_MILESTONE = `mutation DeleteMilestone($input: DeleteMilestoneInput!) {
  deleteMilestone(input: $input) { ${ERRORS} deletedMilestoneId }
}`;

export const RECORD_INITIAL_PAYMENT = `mutation RecordInitialPayment($input: ProjectRefInput!) {
  recordInitialPayment(input: $input) { ${ERRORS} project { id } }
}`;

export const UNLOCK_MILESTONES = `mutation UnlockMilestones($input: ProjectRefInput!) {
  unlockMilestones(input: $input) { ${ERRORS} project { id } }
}`;
