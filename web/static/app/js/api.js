// GraphQL over HTTP: one POST per operation, the session token as a bearer token.

export const ENDPOINT = new URL("/graphql", location.href);

// sessionStorage: the token lasts for this tab, and goes when it closes. Only this
// origin's own scripts can read it (the page's Content-Security-Policy allows no others).
const TOKEN_KEY = "milestones.token";

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A top-level error: `code` is its `extensions.code` (UNAUTHENTICATED, NOT_FOUND, …). */
export class ApiError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }
}

/** Called when the server no longer accepts the token (main.js sends the user to log in). */
export const hooks = { unauthenticated: () => {} };

/**
 * Runs one operation and returns its `data`; a top-level error throws an ApiError.
 * Problems the user can fix are not thrown: they come back in the payload's `errors`.
 */
export async function graphql(query, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached; try again.", "NETWORK");
  }
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`The server answered ${response.status}.`, "HTTP");
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code;
    if (code === "UNAUTHENTICATED") hooks.unauthenticated();
    const wait = error.extensions?.retryAfter;
    const message = wait ? `${error.message} (try again in ${Math.ceil(wait)} s)` : error.message;
    throw new ApiError(message, code, error.extensions);
  }
  return body.data;
}
