// Package httpkit is the HTTP plumbing every vendor connector shares,
// composed over net/http rather than a framework: a Client that turns HTTP
// answers and failures into *connector.Error, paging iterators, OAuth2, a
// client-side rate limit, and redacted logs.
//
// # Errors
//
// Client.Do returns the 2xx Response, or a *connector.Error whose code
// comes from the status (400/422 invalid, 401/403 unauthorized, 404 not
// found, 409/412 conflict, 429 rate limited, 5xx unavailable) and whose
// message carries the vendor's error code and field, as the connector's
// Config.DecodeError reads them from the body. Status returns the HTTP
// status of such an error.
//
// Retry-After (delay-seconds or an HTTP-date) and a vendor's own limit
// headers (Config.Throttle) become the error's RetryAfter, capped at
// Config.MaxRetryAfter, and pause the Client for that long.
//
// The error says whether the remote may have applied the request: true when
// the request was written to the connection (net/http/httptrace tells) and
// then the call timed out or the connection broke, false when it never left
// (a dial or DNS failure). Reads are marked the same way; retrying them is
// harmless, so retry them with retry.Policy.Idempotent.
//
// The Client does not retry; wrap calls in retry.Do, which reads the code,
// the retry-after and may-have-applied. The one exception is a 401 with
// Config.Auth: the token is invalidated and the request sent once more.
//
// # Requests
//
// Client.NewRequest resolves a reference against Config.BaseURL and encodes a
// JSON body that can be replayed; DoJSON decodes the answer. The idempotency
// key of WithIdempotencyKey goes into the Idempotency-Key header (or
// Config.IdempotencyHeader, or wherever Config.SetIdempotencyKey puts it).
// Every request goes through a tracing.Transport: traceparent, and the
// correlation header unless Config.Propagator is TraceContextOnly.
//
// # Paging
//
// PagesByLink follows a next link in the body (Salesforce nextRecordsUrl,
// OData v4 @odata.nextLink, OData v2 __next), PagesByCursor a cursor or
// token, PagesByNumber page numbers. Each yields the items one by one as an
// iter.Seq2 that stops at the first error and after Paging.MaxPages pages.
//
// # Limits and logs
//
// Config.Rate and Config.Burst limit the requests per second; a 429 or a
// vendor header reporting few calls left pauses all requests until the
// server's delay ends. Responses are read up to Config.MaxResponseBytes
// (10 MiB by default) and never buffered beyond it. Config.Logger logs each
// request and response at debug level with Authorization, cookies, tokens,
// secrets and Config.Redact names replaced by [Redacted].
package httpkit
