// Errors meant for the user: the CLI prints their message as one line, without a stack trace.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Wraps a failing call so the user sees one line naming `what` (a file, key or value). */
export function userErrorFrom(what: string, e: unknown): UserError {
  if (e instanceof UserError) return e;
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new UserError(`${what}: ${msg}`);
}
