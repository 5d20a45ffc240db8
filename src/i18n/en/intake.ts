import type { zhIntake } from '../zh-CN/intake';

/** Chat and webhook text (English) for intake: lost-message sweep, reply cuts, HTTP API errors. */
export const enIntake: { readonly [K in keyof typeof zhIntake]: string } = {
  'inbound.abandoned':
    'Sorry: your command "{text}" was interrupted by a restart and did not finish after retries, so it did not run. Check /jobs and send it again.',
  'reply.truncated': '… (reply too long: {cut} characters cut)',

  'http.authMissing': 'Missing token: send the header Authorization: Bearer <token> (create one with npm run cli -- token create).',
  'http.authUnknown': 'Unknown or revoked token: check with npm run cli -- token list and issue a new one if needed.',
  'http.roleTooLow': 'Token "{name}" has the role {yours}; this needs {role}.',
  'http.bodyTooLarge': 'Request body too large: the limit is {limit} bytes; split it and try again.',
  'http.notJson': 'The request body is not valid JSON, e.g. {example}',
  'http.notObject': 'The request body must be a JSON object, e.g. {example}',
  'http.unknownKey': 'Unknown field "{key}"; known fields: {known}.',
  'http.expect.array': 'a JSON array ([…])',
  'http.push.missingItems':
    'No items: "items" needs at least one, e.g. "items": [{"sku": "A001", "quantity": 2}], or as text "items": "A001*2,B002".',
  'http.fieldExpected': 'Field "{field}" should be {expected}, e.g. {example}',
  'http.idempotencyMismatch':
    'This Idempotency-Key was used with a different request body; use a new key, or send exactly the first body again.',
  'http.idempotencyBusy': 'The first request with this Idempotency-Key is still running; try again in {seconds} s.',
  'http.rateLimited': 'Too many requests: at most {limit} per caller per minute; try again in {seconds} s.',
  'http.noRoute': 'There is no {method} {path}; see the HTTP endpoints section of the README.',
  'http.internal': 'Internal server error, logged (reference {ref}).',
  'http.needsAdmin': "Listing someone else's jobs (requestedBy) needs an admin token; leave requestedBy out to list your own.",
  'http.badId': 'id must be a positive whole number, e.g. /api/jobs/12.',
  'http.noJob': 'There is no job {id} (or you may not see it).',
  'http.notRetryable': 'The job is {status}; only failed or cancelled jobs can be retried.',
  'http.notCancellable': 'The job is {status}; only queued or running jobs can be cancelled.',
  'http.badCallback': 'Not a DingTalk robot message: {problem}',
  'http.badSign': 'Missing or invalid timestamp/sign headers (or a timestamp more than an hour off).',
  'health.dbUnreachable': 'The database is unreachable (reference {ref}, details in the log).',
  'health.streamDown': 'DingTalk Stream is not connected',
  'health.amqpDown': 'RabbitMQ is unreachable (reference {ref}, details in the log).',
};
