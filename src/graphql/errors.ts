import { GraphQLError } from 'graphql';

/** The contract's error codes (`extensions.code`), and nothing else reaches a client. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'VERSION_CONFLICT',
  'AGREEMENT_INACTIVE',
  'ATTESTATION_REQUIRED',
  'INCOMPLETE_CUSTOMER_INFO',
  'SUSPECT_CUSTOMER_INFO',
  'QUERY_TOO_COMPLEX',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Base of every error the services throw on purpose. The message and the
 * extensions go to the client as they are, so they must never hold a
 * person's data, SQL or internals.
 */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'AppError';
  }

  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'A valid API key is required: send Authorization: Bearer <key>') {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this') {
    super('FORBIDDEN', message);
  }
}

export class BadInputError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, extensions);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} was not found`);
  }
}

export class VersionConflictError extends AppError {
  constructor(currentVersion: number) {
    super('VERSION_CONFLICT', 'The record was changed by someone else: reload it and try again', { currentVersion });
  }
}

export class AgreementInactiveError extends AppError {
  constructor(message = 'No active data-sharing agreement grants this') {
    super('AGREEMENT_INACTIVE', message);
  }
}

export class AttestationRequiredError extends AppError {
  constructor() {
    super('ATTESTATION_REQUIRED', 'Sign the staff attestation first (mutation signAttestation)');
  }
}

/**
 * Apollo answers an error carrying `extensions.http` with that status (and
 * strips the member before formatError). Only refusals of the whole request
 * before any resolver ran carry it: an error a resolver throws keeps
 * GraphQL's 200 beside the data that was resolved.
 */
const BEFORE_EXECUTION = { http: { status: 400 } };

/** A document above one of the request limits (graphql/query-limits.ts, plugins.ts): HTTP 400. */
export class QueryTooComplexError extends AppError {
  constructor(message: string, limit: number) {
    super('QUERY_TOO_COMPLEX', message, { limit, ...BEFORE_EXECUTION });
  }
}

/** Bad input found before execution (a syntax error, `first` above the page size): HTTP 400, as Apollo answers validation errors. */
export class BadRequestInputError extends BadInputError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message, { ...extensions, ...BEFORE_EXECUTION });
  }
}
